// Test reporter for bench/evaluate.sh. It runs in the test runner's own process, never in the processes
// that load the code under test (node --test runs every test file in a child process), so that code can
// neither see nor change what is written here. One JSON line per finished test:
//   {"file":"heldout/x.test.ts","name":"…","nesting":0,"ok":true,"directive":""}
// "directive" is "skip" or "todo" when the test was marked so: such a test is not a pass.
import path from "node:path";

export default async function* jsonLines(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const data = event.data;
    const directive = data.skip !== undefined ? "skip" : data.todo !== undefined ? "todo" : "";
    const file = data.file ? path.relative(process.cwd(), data.file) : "";
    yield JSON.stringify({ file, name: data.name, nesting: data.nesting, ok: event.type === "test:pass", directive }) + "\n";
  }
}
