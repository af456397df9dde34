// Held-out validation for task 05: never shown to the agent. Each test names the rule of TASK.md it checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CsvError, parseCsv } from "../src/csv";

function assertCsvError(text: string, line: number, column: number) {
  assert.throws(() => parseCsv(text), (error: unknown) => {
    assert.ok(error instanceof CsvError, `expected a CsvError for ${JSON.stringify(text)}, got ${error}`);
    assert.deepEqual({ line: error.line, column: error.column }, { line, column }, `position for ${JSON.stringify(text)}`);
    return true;
  });
}

test("rule 1: CRLF and LF both end records", () => {
  assert.deepEqual(parseCsv("a,b\r\nc,d\ne,f"), [["a", "b"], ["c", "d"], ["e", "f"]]);
});

test("rule 1: a final line break adds no record, the empty text has none", () => {
  assert.deepEqual(parseCsv("a,b\n"), [["a", "b"]]);
  assert.deepEqual(parseCsv("a,b\r\n"), [["a", "b"]]);
  assert.deepEqual(parseCsv(""), []);
});

test("rule 1: empty lines are records with one empty field", () => {
  assert.deepEqual(parseCsv("a\n\nb"), [["a"], [""], ["b"]]);
  assert.deepEqual(parseCsv("a\n\n"), [["a"], [""]]);
  assert.deepEqual(parseCsv("\n"), [[""]]);
  assert.deepEqual(parseCsv("\r\n\r\nx"), [[""], [""], ["x"]]);
});

test("rule 1: a lone carriage return is data", () => {
  assert.deepEqual(parseCsv("a\rb,c\r"), [["a\rb", "c\r"]]);
});

test("rule 2: empty fields at the start, middle and end", () => {
  assert.deepEqual(parseCsv(",a,,b,"), [["", "a", "", "b", ""]]);
  assert.deepEqual(parseCsv(","), [["", ""]]);
  assert.deepEqual(parseCsv("a,\nb"), [["a", ""], ["b"]]);
});

test("rule 2: ragged records and untrimmed whitespace", () => {
  assert.deepEqual(parseCsv(" a , b\nc\n\td,e,f "), [[" a ", " b"], ["c"], ["\td", "e", "f "]]);
});

test("rule 2: other delimiters, and bad ones", () => {
  assert.deepEqual(parseCsv('a\tb\t"c\td"\n1\t\t2', { delimiter: "\t" }), [["a", "b", "c\td"], ["1", "", "2"]]);
  assert.deepEqual(parseCsv("a|b,c", { delimiter: "|" }), [["a", "b,c"]]);
  for (const bad of ["", ";;", '"', "\n", "\r"]) {
    assert.throws(() => parseCsv("a", { delimiter: bad }), RangeError, JSON.stringify(bad));
  }
});

test("rule 3: line breaks inside quotes are kept exactly", () => {
  assert.deepEqual(parseCsv('"line 1\nline 2","x\r\ny"\nnext'), [["line 1\nline 2", "x\r\ny"], ["next"]]);
});

test("rule 3: doubled quotes, empty quoted fields, quotes only", () => {
  assert.deepEqual(parseCsv('"",""""\n"a""""b"'), [["", '"'], ['a""b']]);
  assert.deepEqual(parseCsv('""'), [[""]]);
  assert.deepEqual(parseCsv('"",'), [["", ""]]);
});

test("rule 3: a quoted field at the end of the text and before a final line break", () => {
  assert.deepEqual(parseCsv('a,"b"'), [["a", "b"]]);
  assert.deepEqual(parseCsv('a,"b"\r\n'), [["a", "b"]]);
});

test("rule 4: quotes inside unquoted fields are data", () => {
  assert.deepEqual(parseCsv('a"b,c""d,e"\n5" screen'), [['a"b', 'c""d', 'e"'], ['5" screen']]);
  assert.deepEqual(parseCsv(' "a"'), [[' "a"']]);
});

test("rule 5: a leading byte order mark is skipped, others are data", () => {
  assert.deepEqual(parseCsv("\uFEFFid,name\n1,x"), [["id", "name"], ["1", "x"]]);
  assert.deepEqual(parseCsv('\uFEFF"q",\uFEFF'), [["q", "\uFEFF"]]);
});

test("rule 6: text after a closing quote points at that character", () => {
  assertCsvError('"a"b', 1, 4);
  assertCsvError('x,"a" ,y', 1, 6);
  assertCsvError('1,2\n3,"ab"c', 2, 7);
});

test("rule 6: an unclosed quote points at the opening quote", () => {
  assertCsvError('a,"b', 1, 3);
  assertCsvError('a\nb,c,"d\ne,f', 2, 5);
  assertCsvError('"', 1, 1);
});

test("rule 6: lines inside quoted fields and CRLF count once each, after the byte order mark", () => {
  assertCsvError('"multi\r\nline\nvalue",1\r\n2,"x"y', 4, 6);
  assertCsvError('\uFEFFab,"c"d', 1, 7);
  assertCsvError('a\rb,"c"!', 1, 8);
});

test("rule 6: columns count UTF-16 code units: a character outside the BMP counts two", () => {
  // "\u{1F600}" is one code point but two UTF-16 code units.
  assertCsvError('\u{1F600},"a"b', 1, 7);
  assertCsvError('x\n\u{1F600}\u{1F600},"q', 2, 6);
  assert.deepEqual(parseCsv('\u{1F600},"\u{1F600}"'), [["\u{1F600}", "\u{1F600}"]]);
});

test("rule 3: a carriage return alone after a closing quote is an unexpected character", () => {
  assertCsvError('"a"\rb', 1, 4);
  assertCsvError('x,"a"\r', 1, 6);
  assert.deepEqual(parseCsv('"a"\r\nb'), [["a"], ["b"]]);
});

test("larger input: 2000 records round-trip through quoting", () => {
  const rows: string[][] = [];
  for (let i = 0; i < 2000; i++) rows.push([String(i), `name ${i}`, i % 3 === 0 ? `say "${i}",\nok` : ""]);
  const text = rows.map((r) => r.map((f) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(",")).join("\r\n") + "\r\n";
  assert.deepEqual(parseCsv(text), rows);
});
