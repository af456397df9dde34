import { test } from "node:test";
import assert from "node:assert/strict";
import { CsvError, parseCsv } from "../src/csv";

test("plain records and fields", () => {
  assert.deepEqual(parseCsv("name,age\nada,36\nbo,7"), [["name", "age"], ["ada", "36"], ["bo", "7"]]);
});

test("a quoted field may contain the delimiter and doubled quotes", () => {
  assert.deepEqual(parseCsv('id,quote\n1,"Hello, ""world"""'), [["id", "quote"], ["1", 'Hello, "world"']]);
});

test("a custom delimiter", () => {
  assert.deepEqual(parseCsv("a;b;c", { delimiter: ";" }), [["a", "b", "c"]]);
});

test("an unclosed quote is an error", () => {
  assert.throws(() => parseCsv('a,"b'), CsvError);
});
