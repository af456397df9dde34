// Variant (bench check, written apart from solution/): a hand-written scanner, BigInt numbers, and each
// comparator turned into an interval test.

type Id = bigint | string;

interface Ver {
  core: [bigint, bigint, bigint];
  pre: Id[];
}

const DIGITS = /^(0|[1-9][0-9]*)$/;
const ALNUM = /^[0-9A-Za-z-]+$/;

function bad(text: string): never {
  throw new TypeError(`invalid version "${text}"`);
}

function parseVersion(text: string): Ver {
  const plus = text.indexOf("+");
  const withoutBuild = plus === -1 ? text : text.slice(0, plus);
  if (plus !== -1 && !text.slice(plus + 1).split(".").every((id) => ALNUM.test(id))) bad(text);
  const dash = withoutBuild.indexOf("-");
  const core = dash === -1 ? withoutBuild : withoutBuild.slice(0, dash);
  const nums = core.split(".");
  if (nums.length !== 3 || !nums.every((n) => DIGITS.test(n))) bad(text);
  const pre: Id[] = [];
  if (dash !== -1) {
    for (const id of withoutBuild.slice(dash + 1).split(".")) {
      if (!ALNUM.test(id)) bad(text);
      if (/^[0-9]+$/.test(id)) {
        if (!DIGITS.test(id)) bad(text);
        pre.push(BigInt(id));
      } else {
        pre.push(id);
      }
    }
  }
  return { core: [BigInt(nums[0]), BigInt(nums[1]), BigInt(nums[2])], pre };
}

function cmpId(a: Id, b: Id): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === "bigint") return -1;
  if (typeof b === "bigint") return 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

function cmp(a: Ver, b: Ver): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i] < b.core[i] ? -1 : 1;
  if (!a.pre.length || !b.pre.length) return (b.pre.length ? 1 : 0) - (a.pre.length ? 1 : 0);
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const c = cmpId(a.pre[i], b.pre[i]);
    if (c) return c;
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1;
}

export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const c = cmp(parseVersion(a), parseVersion(b));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

interface Interval {
  named: Ver;
  low?: { v: Ver; inclusive: boolean };
  high?: { v: Ver; inclusive: boolean };
}

function interval(token: string): Interval {
  const op = /^(<=|>=|<|>|=|\^|~)/.exec(token)?.[0] ?? "";
  const v = parseVersion(token.slice(op.length));
  const [ma, mi, pa] = v.core;
  switch (op) {
    case "": case "=": return { named: v, low: { v, inclusive: true }, high: { v, inclusive: true } };
    case ">": return { named: v, low: { v, inclusive: false } };
    case ">=": return { named: v, low: { v, inclusive: true } };
    case "<": return { named: v, high: { v, inclusive: false } };
    case "<=": return { named: v, high: { v, inclusive: true } };
    case "~": return { named: v, low: { v, inclusive: true }, high: { v: { core: [ma, mi + 1n, 0n], pre: [] }, inclusive: false } };
    default: {
      const core: [bigint, bigint, bigint] = ma > 0n ? [ma + 1n, 0n, 0n] : mi > 0n ? [0n, mi + 1n, 0n] : [0n, 0n, pa + 1n];
      return { named: v, low: { v, inclusive: true }, high: { v: { core, pre: [] }, inclusive: false } };
    }
  }
}

function inside(v: Ver, it: Interval): boolean {
  if (it.low) {
    const c = cmp(v, it.low.v);
    if (c < 0 || (c === 0 && !it.low.inclusive)) return false;
  }
  if (it.high) {
    const c = cmp(v, it.high.v);
    if (c > 0 || (c === 0 && !it.high.inclusive)) return false;
  }
  return true;
}

export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  const alternatives = range.split("||").map((alt) => {
    const tokens = alt.trim().split(/ +/).filter(Boolean);
    if (tokens.length === 0) throw new TypeError(`empty set in range "${range}"`);
    return tokens.map(interval);
  });
  return alternatives.some((set) => {
    if (!set.every((it) => inside(v, it))) return false;
    return v.pre.length === 0 || set.some((it) => it.named.pre.length > 0 && it.named.core.every((x, i) => x === v.core[i]));
  });
}
