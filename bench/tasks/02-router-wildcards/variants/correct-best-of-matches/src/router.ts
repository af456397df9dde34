// Variant (bench check, written apart from solution/): routes are kept in the order added; a match
// collects every route that matches and picks the one whose kinds, read from the left, rank lowest.
//
// A small HTTP router: maps (method, path) to a handler and extracts path parameters. Patterns are paths
// of static segments, ":param" segments and, last only, one "*catchall" segment (one or more segments,
// each decoded, joined with "/"). Empty segments, the query string and the fragment are ignored; methods
// are case-insensitive; a segment that is not valid percent-encoding matches no parameter.

export type Params = Record<string, string>;

export interface Match<H> {
  handler: H;
  params: Params;
}

type Part = { static: string } | { param: string } | { rest: string };

interface Entry<H> {
  method: string;
  parts: Part[];
  ranks: number[];
  handler: H;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function segmentsOf(path: string): string[] {
  return path.split("/").filter(Boolean);
}

function parsePattern(pattern: string): Part[] {
  const parts = segmentsOf(pattern).map((seg, index, all): Part => {
    const sigil = seg[0];
    if (sigil !== ":" && sigil !== "*") return { static: seg };
    const name = seg.slice(1);
    if (!NAME.test(name)) throw new Error(`invalid name in ${seg}`);
    if (sigil === "*" && index !== all.length - 1) throw new Error(`${seg} must be the last segment`);
    return sigil === ":" ? { param: name } : { rest: name };
  });
  const names = parts.flatMap((p) => ("param" in p ? [p.param] : "rest" in p ? [p.rest] : []));
  if (new Set(names).size < names.length) throw new Error(`duplicate name in ${pattern}`);
  return parts;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function tryMatch(parts: Part[], segs: string[]): Params | undefined {
  const params: Params = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if ("rest" in part) {
      if (segs.length <= i) return undefined;
      const decoded = segs.slice(i).map(safeDecode);
      if (decoded.includes(undefined)) return undefined;
      params[part.rest] = decoded.join("/");
      return params;
    }
    if (i >= segs.length) return undefined;
    if ("static" in part) {
      if (part.static !== segs[i]) return undefined;
      continue;
    }
    const value = safeDecode(segs[i]);
    if (value === undefined) return undefined;
    params[part.param] = value;
  }
  return segs.length === parts.length ? params : undefined;
}

// Negative when a is more specific than b; 0 for the same kinds (then the earlier route wins).
function bySpecificity(a: number[], b: number[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export class Router<H> {
  private readonly entries: Entry<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    const parts = parsePattern(pattern);
    const ranks = parts.map((p) => ("static" in p ? 0 : "param" in p ? 1 : 2));
    this.entries.push({ method: method.toUpperCase(), parts, ranks, handler });
    return this;
  }

  match(method: string, path: string): Match<H> | null {
    const segs = segmentsOf(path.split(/[?#]/, 1)[0]);
    const wanted = method.toUpperCase();
    let best: { entry: Entry<H>; params: Params } | null = null;
    for (const entry of this.entries) {
      if (entry.method !== wanted) continue;
      const params = tryMatch(entry.parts, segs);
      if (params && (best === null || bySpecificity(entry.ranks, best.entry.ranks) < 0)) best = { entry, params };
    }
    return best && { handler: best.entry.handler, params: best.params };
  }
}
