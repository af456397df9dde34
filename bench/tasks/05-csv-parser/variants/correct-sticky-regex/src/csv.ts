// Variant (bench check, written apart from solution/): sticky regular expressions per field; positions computed from the index only for errors.

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

// Line and column (from 1) of index `at`: every line break (\n or \r\n) holds exactly one \n.
function positionOf(s: string, at: number): [number, number] {
  let line = 1;
  for (let k = s.indexOf("\n"); k !== -1 && k < at; k = s.indexOf("\n", k + 1)) line++;
  const lineStart = s.lastIndexOf("\n", at - 1) + 1;
  return [line, at - lineStart + 1];
}

function fail(s: string, at: number, message: string): never {
  const [line, column] = positionOf(s, at);
  throw new CsvError(message, line, column);
}

export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  const delimiter = options.delimiter ?? ",";
  if (delimiter.length !== 1 || '"\r\n'.includes(delimiter)) throw new RangeError("invalid delimiter");
  const s = text[0] === "\uFEFF" ? text.slice(1) : text;
  if (s === "") return [];
  const code = "\\u" + delimiter.charCodeAt(0).toString(16).padStart(4, "0");
  // A quoted field ends at a quote that is not doubled: never at one followed by another quote.
  const quoted = /"((?:[^"]|"")*)"(?!")/y;
  const plain = new RegExp(`(?:[^${code}\\n\\r]|\\r(?!\\n))*`, "y");
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    if (s[i] === '"') {
      quoted.lastIndex = i;
      const m = quoted.exec(s);
      if (m === null) fail(s, i, "unclosed quoted field");
      row.push(m[1].replace(/""/g, '"'));
      i = quoted.lastIndex;
      const next = s[i];
      if (i < s.length && next !== delimiter && next !== "\n" && !s.startsWith("\r\n", i)) {
        fail(s, i, "unexpected character after a closing quote");
      }
    } else {
      plain.lastIndex = i;
      const m = plain.exec(s) as RegExpExecArray;
      row.push(m[0]);
      i = plain.lastIndex;
    }
    if (i === s.length) break;
    if (s[i] === delimiter) {
      i++;
      continue;
    }
    i += s[i] === "\r" ? 2 : 1;
    rows.push(row);
    row = [];
    if (i === s.length) return rows;
  }
  rows.push(row);
  return rows;
}
