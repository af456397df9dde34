// Variant (bench check, written apart from solution/): a trie of segments per method, searched depth
// first: at each level the static child, then the parameter child, then catch-all routes, backtracking
// when a branch finds nothing. Routes of the same shape end at the same node; the first added is kept
// first there.
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

interface Route<H> {
  pattern: string[];
  handler: H;
}

class Node<H> {
  readonly statics = new Map<string, Node<H>>();
  param: Node<H> | undefined;
  readonly ends: Route<H>[] = [];
  readonly catchAlls: Route<H>[] = [];
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function decodeOrNull(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function validate(pattern: string[], raw: string): void {
  const seen = new Set<string>();
  pattern.forEach((seg, i) => {
    if (seg[0] !== ":" && seg[0] !== "*") return;
    const name = seg.slice(1);
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`bad name "${seg}" in "${raw}"`);
    if (seg[0] === "*" && i < pattern.length - 1) throw new Error(`"${seg}" is not last in "${raw}"`);
    if (seen.has(name)) throw new Error(`"${name}" appears twice in "${raw}"`);
    seen.add(name);
  });
}

function paramsOf(pattern: string[], segs: string[]): Params {
  const params: Params = {};
  pattern.forEach((seg, i) => {
    if (seg[0] === ":") params[seg.slice(1)] = decodeOrNull(segs[i]) as string;
    if (seg[0] === "*") params[seg.slice(1)] = segs.slice(i).map((s) => decodeOrNull(s)).join("/");
  });
  return params;
}

export class Router<H> {
  private readonly roots = new Map<string, Node<H>>();

  add(method: string, pattern: string, handler: H): this {
    const segs = split(pattern);
    validate(segs, pattern);
    const key = method.toUpperCase();
    let node = this.roots.get(key);
    if (!node) this.roots.set(key, (node = new Node<H>()));
    for (const seg of segs) {
      if (seg[0] === "*") {
        node.catchAlls.push({ pattern: segs, handler });
        return this;
      }
      if (seg[0] === ":") {
        node = node.param ??= new Node<H>();
      } else {
        let next = node.statics.get(seg);
        if (!next) node.statics.set(seg, (next = new Node<H>()));
        node = next;
      }
    }
    node.ends.push({ pattern: segs, handler });
    return this;
  }

  match(method: string, path: string): Match<H> | null {
    const root = this.roots.get(method.toUpperCase());
    if (!root) return null;
    const q = path.search(/[?#]/);
    const segs = split(q < 0 ? path : path.slice(0, q));
    const route = this.search(root, segs, 0);
    return route ? { handler: route.handler, params: paramsOf(route.pattern, segs) } : null;
  }

  private search(node: Node<H>, segs: string[], i: number): Route<H> | undefined {
    if (i === segs.length) return node.ends[0];
    const viaStatic = node.statics.get(segs[i]);
    const found = viaStatic && this.search(viaStatic, segs, i + 1);
    if (found) return found;
    if (node.param && decodeOrNull(segs[i]) !== null) {
      const viaParam = this.search(node.param, segs, i + 1);
      if (viaParam) return viaParam;
    }
    if (node.catchAlls.length > 0 && segs.slice(i).every((s) => decodeOrNull(s) !== null)) return node.catchAlls[0];
    return undefined;
  }
}
