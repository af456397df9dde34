// A plausible wrong parser (kept for the task checks): normalises CRLF to LF first (changing quoted
// values), skips empty lines, keeps a byte order mark, and lets text after a closing quote join the field.

export interface CsvOptions {
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
  if (delimiter.length !== 1) throw new RangeError("delimiter");
  const src = text.replace(/\r\n/g, "\n");
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let inQuotes = false;
  let line = 1;
  let column = 0;
  let quoteLine = 0;
  let quoteColumn = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    column++;
    if (inQuotes) {
      if (c === '"' && src[i + 1] === '"') { field += '"'; i++; column++; }
      else if (c === '"') inQuotes = false;
      else { field += c; if (c === "\n") { line++; column = 0; } }
    } else if (c === '"' && field === "") { inQuotes = true; quoteLine = line; quoteColumn = column; }
    else if (c === delimiter) { record.push(field); field = ""; }
    else if (c === "\n") {
      record.push(field);
      if (record.length > 1 || record[0] !== "") records.push(record);
      record = []; field = ""; line++; column = 0;
    } else field += c;
  }
  if (inQuotes) throw new CsvError("unclosed quoted field", quoteLine, quoteColumn);
  if (field !== "" || record.length > 0) { record.push(field); records.push(record); }
  return records;
}
