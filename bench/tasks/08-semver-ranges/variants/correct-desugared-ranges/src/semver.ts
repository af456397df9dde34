// Variant (bench check, written apart from solution/): versions as records compared field by field
// (numbers by length then text), and ranges rewritten into plain comparators before matching: ~V and
// ^V become ">=V <U" where U has no pre-release, which leaves the pre-release rule unchanged.

interface Parsed {
  nums: string[];
  pre: string[] | null;
}

const SHAPE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function read(text: string): Parsed {
  const m = text.match(SHAPE);
  if (m === null) throw new TypeError(`${text} is not a semantic version`);
  const pre = m[4] === undefined ? null : m[4].split(".");
  if (pre?.some((id) => /^0\d+$/.test(id))) throw new TypeError(`${text}: numeric identifier with a leading zero`);
  return { nums: [m[1], m[2], m[3]], pre };
}

const isNumeric = (s: string) => /^\d+$/.test(s);

function numericOrder(a: string, b: string): number {
  return a.length - b.length || (a === b ? 0 : a < b ? -1 : 1);
}

function order(a: Parsed, b: Parsed): number {
  for (let i = 0; i < 3; i++) {
    const d = numericOrder(a.nums[i], b.nums[i]);
    if (d !== 0) return d;
  }
  if (a.pre === null || b.pre === null) return a.pre === b.pre ? 0 : a.pre === null ? 1 : -1;
  for (let i = 0; ; i++) {
    if (i === a.pre.length || i === b.pre.length) return a.pre.length - b.pre.length;
    const [x, y] = [a.pre[i], b.pre[i]];
    let d: number;
    if (isNumeric(x) && isNumeric(y)) d = numericOrder(x, y);
    else if (isNumeric(x) || isNumeric(y)) d = isNumeric(x) ? -1 : 1;
    else d = x === y ? 0 : x < y ? -1 : 1;
    if (d !== 0) return d;
  }
}

export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return Math.sign(order(read(a), read(b))) as -1 | 0 | 1;
}

const plusOne = (n: string) => String(BigInt(n) + 1n);

// One written comparator as plain ones (operator and version text).
function desugar(token: string): [string, string][] {
  const m = /^(>=|<=|>|<|=|~|\^)?(.*)$/.exec(token) as RegExpExecArray;
  const op = m[1] ?? "=";
  if (op !== "~" && op !== "^") return [[op, m[2]]];
  const [major, minor, patch] = read(m[2]).nums;
  let upper: string;
  if (op === "~") upper = `${major}.${plusOne(minor)}.0`;
  else if (major !== "0") upper = `${plusOne(major)}.0.0`;
  else if (minor !== "0") upper = `0.${plusOne(minor)}.0`;
  else upper = `0.0.${plusOne(patch)}`;
  return [[">=", m[2]], ["<", upper]];
}

function holds(v: Parsed, op: string, w: Parsed): boolean {
  const d = order(v, w);
  return op === "=" ? d === 0 : op === ">" ? d > 0 : op === ">=" ? d >= 0 : op === "<" ? d < 0 : d <= 0;
}

export function satisfies(version: string, range: string): boolean {
  const v = read(version);
  const sets = range.split("||").map((part) => {
    const words = part.split(" ").filter((w) => w.length > 0);
    if (words.length === 0) throw new TypeError(`range "${range}" has an empty comparator set`);
    return words.flatMap(desugar).map(([op, text]) => ({ op, w: read(text) }));
  });
  const sameCore = (a: Parsed, b: Parsed) => a.nums.join(".") === b.nums.join(".");
  return sets.some(
    (set) => set.every(({ op, w }) => holds(v, op, w)) && (v.pre === null || set.some(({ w }) => w.pre !== null && sameCore(w, v))),
  );
}
