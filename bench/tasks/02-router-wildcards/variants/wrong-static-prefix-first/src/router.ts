// Variant (bench check): the route with the longest run of leading static segments first.
// A small HTTP router: maps (method, path) to a handler and extracts path parameters.
//
// Patterns are paths whose segments are static text ("users"), parameters (":id") or, as the last
// segment only, a catch-all ("*rest"). Leading and trailing slashes and empty segments are ignored, in
// patterns and in paths alike, and a path's query string ("?...") and fragment ("#...") are not part of
// it. A parameter matches one segment; its value is the segment percent-decoded. A catch-all matches one
// or more segments; its value is them, each decoded, joined with "/". A segment that is not valid
// percent-encoding matches no parameter or catch-all. Methods are compared case-insensitively.
//
// The most specific matching route wins: compared from the left, static beats parameter beats
// catch-all at the first segment where two routes differ in kind; among routes of identical shape the
// first added wins.

export type Params = Record<string, string>;

export interface Match<H> {
  handler: H;
  params: Params;
}

type Segment =
  | { kind: "static"; text: string }
  | { kind: "param"; name: string }
  | { kind: "catchall"; name: string };

interface Route<H> {
  method: string;
  segments: Segment[];
  handler: H;
  order: number;
}

// Lower is more specific.
const RANK: Record<Segment["kind"], number> = { static: 0, param: 1, catchall: 2 };

export class Router<H> {
  // Kept sorted from most to least specific, so that the first match is the best one.
  private readonly routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    const segments = splitPath(pattern).map(parseSegment);
    const catchAll = segments.findIndex((s) => s.kind === "catchall");
    if (catchAll !== -1 && catchAll !== segments.length - 1) {
      throw new Error(`catch-all must be the last segment in pattern "${pattern}"`);
    }
    const names = segments.flatMap((s) => (s.kind === "static" ? [] : [s.name]));
    if (new Set(names).size !== names.length) {
      throw new Error(`duplicate parameter name in pattern "${pattern}"`);
    }
    this.routes.push({ method: method.toUpperCase(), segments, handler, order: this.routes.length });
    this.routes.sort(compareSpecificity);
    return this;
  }

  /** The most specific route that matches, or null. */
  match(method: string, path: string): Match<H> | null {
    const parts = splitPath(stripQueryAndFragment(path));
    for (const route of this.routes) {
      if (route.method !== method.toUpperCase()) continue;
      const params = matchSegments(route.segments, parts);
      if (params) return { handler: route.handler, params };
    }
    return null;
  }
}

/**
 * Lexicographic order of the segments' ranks. Trying routes in this order is the same as a depth-first
 * search that prefers static, then parameter, then catch-all at every segment and backtracks on failure.
 */
function compareSpecificity<H>(a: Route<H>, b: Route<H>): number {
  const prefix = (r: Route<H>) => {
    const k = r.segments.findIndex((s) => s.kind !== "static");
    return k === -1 ? r.segments.length : k;
  };
  if (prefix(a) !== prefix(b)) return prefix(b) - prefix(a);
  // Same kinds on the common prefix: routes of different length never match the same path unless one
  // ends in a catch-all, which the rank comparison above has already ordered. Fall back to age.
  return a.order - b.order;
}

function matchSegments(segments: Segment[], parts: string[]): Params | null {
  const last = segments[segments.length - 1];
  const hasCatchAll = last !== undefined && last.kind === "catchall";
  if (hasCatchAll ? parts.length < segments.length : parts.length !== segments.length) return null;
  const params: Params = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "static") {
      if (segment.text !== parts[i]) return null;
    } else if (segment.kind === "param") {
      const value = decode(parts[i]);
      if (value === null) return null;
      params[segment.name] = value;
    } else {
      const values = parts.slice(i).map(decode);
      if (values.some((v) => v === null)) return null;
      params[segment.name] = values.join("/");
    }
  }
  return params;
}

function parseSegment(text: string): Segment {
  if (text.startsWith(":") || text.startsWith("*")) {
    const name = text.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad parameter name "${text}"`);
    return text.startsWith(":") ? { kind: "param", name } : { kind: "catchall", name };
  }
  return { kind: "static", text };
}

function splitPath(path: string): string[] {
  return path.split("/").filter((part) => part.length > 0);
}

function stripQueryAndFragment(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
