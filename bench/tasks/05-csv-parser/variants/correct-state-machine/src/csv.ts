// Variant (bench check, written apart from solution/): a loop that tracks line and column as it moves.

export interface CsvOptions {
  /** One character; defaults to ",". */
  delimiter?: string;
}

export class CsvError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = "CsvError";
  }
}

function checkedDelimiter(options: CsvOptions): string {
  const d = options.delimiter === undefined ? "," : options.delimiter;
  if (typeof d !== "string" || d.length !== 1 || d === '"' || d === "\r" || d === "\n") {
    throw new RangeError(`bad delimiter ${JSON.stringify(d)}`);
  }
  return d;
}

export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  const d = checkedDelimiter(options);
  const s = text.charCodeAt(0) === 0xfeff ? text.substring(1) : text;
  const rows: string[][] = [];
  if (s.length === 0) return rows;
  const breakAt = (p: number) => (s[p] === "\n" ? 1 : s[p] === "\r" && s[p + 1] === "\n" ? 2 : 0);
  let row: string[] = [];
  let pos = 0;
  let line = 1;
  let col = 1; // column of s[pos]
  for (;;) {
    let field = "";
    if (s[pos] === '"') {
      const openLine = line;
      const openCol = col;
      pos += 1;
      col += 1;
      for (;;) {
        if (pos >= s.length) throw new CsvError("quoted field not closed", openLine, openCol);
        if (s[pos] === '"') {
          pos += 1;
          col += 1;
          if (s[pos] !== '"') break;
          field += '"';
          pos += 1;
          col += 1;
          continue;
        }
        const b = breakAt(pos);
        if (b > 0) {
          field += s.substr(pos, b);
          pos += b;
          line += 1;
          col = 1;
        } else {
          field += s[pos];
          pos += 1;
          col += 1;
        }
      }
      if (pos < s.length && s[pos] !== d && breakAt(pos) === 0) {
        throw new CsvError(`${JSON.stringify(s[pos])} after a quoted field`, line, col);
      }
    } else {
      const start = pos;
      while (pos < s.length && s[pos] !== d && breakAt(pos) === 0) {
        pos += 1;
        col += 1;
      }
      field = s.slice(start, pos);
    }
    row.push(field);
    if (pos >= s.length) {
      rows.push(row);
      return rows;
    }
    if (s[pos] === d) {
      pos += 1;
      col += 1;
      continue;
    }
    pos += breakAt(pos);
    line += 1;
    col = 1;
    rows.push(row);
    row = [];
    if (pos >= s.length) return rows;
  }
}
