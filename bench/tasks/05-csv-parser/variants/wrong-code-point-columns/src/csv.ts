// Variant (bench check): columns counted in code points (Array.from) instead of UTF-16 code units.
// A CSV parser: see TASK.md for the rules it follows. One pass over the text with an index; positions
// (line, column) are tracked as it goes so that errors can point at the offending character.

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

export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  const delimiter = options.delimiter ?? ",";
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\r" || delimiter === "\n") {
    throw new RangeError(`delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;

  // Length of the line break at position p (1 for \n, 2 for \r\n), or 0 when there is none.
  const lineBreakAt = (p: number) => (src[p] === "\n" ? 1 : src[p] === "\r" && src[p + 1] === "\n" ? 2 : 0);

  while (i < src.length) {
    let value: string;
    if (src[i] === '"') {
      const openLine = line;
      const openColumn = Array.from(src.slice(lineStart, i)).length + 1;
      let j = i + 1;
      value = "";
      for (;;) {
        if (j >= src.length) throw new CsvError("unclosed quoted field", openLine, openColumn);
        if (src[j] === '"') {
          if (src[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          j += 1;
          break;
        }
        const br = lineBreakAt(j);
        if (br > 0) {
          value += src.slice(j, j + br);
          j += br;
          line += 1;
          lineStart = j;
          continue;
        }
        value += src[j];
        j += 1;
      }
      i = j;
      if (i < src.length && src[i] !== delimiter && lineBreakAt(i) === 0) {
        throw new CsvError(`unexpected ${JSON.stringify(src[i])} after a closing quote`, line, Array.from(src.slice(lineStart, i)).length + 1);
      }
    } else {
      let j = i;
      while (j < src.length && src[j] !== delimiter && lineBreakAt(j) === 0) j += 1;
      value = src.slice(i, j);
      i = j;
    }
    record.push(value);

    if (i >= src.length) break;
    if (src[i] === delimiter) {
      i += 1;
      // A delimiter at the end of a line or of the text leaves an empty last field.
      if (i >= src.length || lineBreakAt(i) > 0) record.push("");
      if (i >= src.length) break;
      if (lineBreakAt(i) === 0) continue;
    }
    const br = lineBreakAt(i);
    records.push(record);
    record = [];
    i += br;
    line += 1;
    lineStart = i;
    // Empty lines: each is a record with one empty field (but not a final line break).
    while (i < src.length && lineBreakAt(i) > 0) {
      records.push([""]);
      i += lineBreakAt(i);
      line += 1;
      lineStart = i;
    }
  }
  if (record.length > 0) records.push(record);
  return records;
}
