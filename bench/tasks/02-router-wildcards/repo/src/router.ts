// A small HTTP router: maps (method, path) to a handler and extracts path parameters.
//
// Patterns are paths whose segments are either static text ("users") or parameters (":id"). Leading and
// trailing slashes and empty segments are ignored, in patterns and in paths alike, and a path's query
// string ("?...") and fragment ("#...") are not part of it. A parameter matches one segment; its value is
// the segment percent-decoded. A segment that is not valid percent-encoding matches no parameter.
// Methods are compared case-insensitively.

export type Params = Record<string, string>;

export interface Match<H> {
  handler: H;
  params: Params;
}

type Segment = { kind: "static"; text: string } | { kind: "param"; name: string };

interface Route<H> {
  method: string;
  segments: Segment[];
  handler: H;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    const segments = splitPath(pattern).map(parseSegment);
    const names = segments.flatMap((s) => (s.kind === "param" ? [s.name] : []));
    if (new Set(names).size !== names.length) {
      throw new Error(`duplicate parameter name in pattern "${pattern}"`);
    }
    this.routes.push({ method: method.toUpperCase(), segments, handler });
    return this;
  }

  /** The first registered route that matches, or null. */
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

function matchSegments(segments: Segment[], parts: string[]): Params | null {
  if (segments.length !== parts.length) return null;
  const params: Params = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "static") {
      if (segment.text !== parts[i]) return null;
    } else {
      const value = decode(parts[i]);
      if (value === null) return null;
      params[segment.name] = value;
    }
  }
  return params;
}

function parseSegment(text: string): Segment {
  if (text.startsWith(":")) {
    const name = text.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad parameter name "${text}"`);
    return { kind: "param", name };
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
