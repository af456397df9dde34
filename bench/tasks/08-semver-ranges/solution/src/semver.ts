// Semantic version precedence and range matching (SemVer 2.0.0 precedence; npm-style ranges with the
// pre-release rule of TASK.md). Numbers are kept as digit strings: MAJOR.MINOR.PATCH may exceed 2^53.

interface Version {
  parts: [string, string, string]; // MAJOR, MINOR, PATCH as canonical digit strings
  prerelease: string[];            // empty: a release
}

const NUMBER = "0|[1-9]\\d*";
const IDENT = "[0-9A-Za-z-]+";
const VERSION = new RegExp(`^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+(${IDENT}(?:\\.${IDENT})*))?$`);

function parse(text: string): Version {
  const m = VERSION.exec(text);
  if (!m) throw new TypeError(`not a version: ${JSON.stringify(text)}`);
  const prerelease = m[4] === undefined ? [] : m[4].split(".");
  for (const id of prerelease) {
    if (/^\d+$/.test(id) && id.length > 1 && id[0] === "0") throw new TypeError(`leading zero in ${JSON.stringify(text)}`);
  }
  return { parts: [m[1], m[2], m[3]], prerelease };
}

// Digit strings without leading zeros: the longer is larger, else compare as text.
function compareNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return compareNumbers(a, b);
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const c = compareNumbers(a.parts[i], b.parts[i]);
    if (c !== 0) return c;
  }
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < a.prerelease.length && i < b.prerelease.length; i++) {
    const c = compareIdentifiers(a.prerelease[i], b.prerelease[i]);
    if (c !== 0) return c;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return Math.sign(compare(parse(a), parse(b))) as -1 | 0 | 1;
}

type Test = (v: Version) => boolean;

interface Comparator {
  test: Test;
  bound: Version; // the version the comparator names (for the pre-release rule)
}

function increment(n: string): string {
  return (BigInt(n) + 1n).toString();
}

// The exclusive upper bound of ~V and ^V.
function upperBound(op: "~" | "^", v: Version): Version {
  const [major, minor, patch] = v.parts;
  if (op === "~") return { parts: [major, increment(minor), "0"], prerelease: [] };
  if (major !== "0") return { parts: [increment(major), "0", "0"], prerelease: [] };
  if (minor !== "0") return { parts: ["0", increment(minor), "0"], prerelease: [] };
  return { parts: ["0", "0", increment(patch)], prerelease: [] };
}

function parseComparator(text: string): Comparator {
  const m = /^(>=|<=|>|<|=|~|\^)?(.*)$/.exec(text) as RegExpExecArray;
  const op = m[1] ?? "=";
  const bound = parse(m[2]);
  const c = (v: Version) => compare(v, bound);
  switch (op) {
    case ">": return { bound, test: (v) => c(v) > 0 };
    case ">=": return { bound, test: (v) => c(v) >= 0 };
    case "<": return { bound, test: (v) => c(v) < 0 };
    case "<=": return { bound, test: (v) => c(v) <= 0 };
    case "=": return { bound, test: (v) => c(v) === 0 };
    default: {
      const upper = upperBound(op as "~" | "^", bound);
      return { bound, test: (v) => c(v) >= 0 && compare(v, upper) < 0 };
    }
  }
}

function setHolds(set: Comparator[], v: Version): boolean {
  if (!set.every((c) => c.test(v))) return false;
  if (v.prerelease.length === 0) return true;
  return set.some((c) => c.bound.prerelease.length > 0 && c.bound.parts.every((p, i) => p === v.parts[i]));
}

export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  const sets = range.split("||").map((set) => {
    const comparators = set.split(" ").filter((part) => part !== "");
    if (comparators.length === 0) throw new TypeError(`empty comparator set in ${JSON.stringify(range)}`);
    return comparators.map(parseComparator);
  });
  return sets.some((set) => setHolds(set, v));
}
