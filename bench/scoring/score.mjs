// Scores one suite from the reporter's lines (reporter.mjs) against the task's list of expected tests
// (TASK/tests.json): a suite passes only when every expected test reported a plain pass (no skip or todo
// directive), nothing failed and the runner exited 0. A test file that exits early (process.exit(0))
// reports no tests, or fewer: its missing tests count as failures.
//
//   node score.mjs EVENTS.jsonl TESTS.json SUITE EXIT_CODE   -> {"passed":…,"pass":…,"fail":…,"expected":…,"exit_code":…}
//   node score.mjs --list EVENTS.jsonl                       -> the passing top-level tests, one JSON array
import fs from "node:fs";

const key = (e) => `${e.file} :: ${e.name}`;

function readEvents(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  return text.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

if (process.argv[2] === "--list") {
  const names = readEvents(process.argv[3]).filter((e) => e.nesting === 0 && e.ok && !e.directive).map(key);
  console.log(JSON.stringify([...new Set(names)].sort(), null, 2));
  process.exit(0);
}

const [eventsFile, testsFile, suite, exitCodeText] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(testsFile, "utf8"))[suite];
if (!Array.isArray(expected) || expected.length === 0) {
  console.error(`${testsFile} lists no ${suite} tests`);
  process.exit(2);
}
const exitCode = Number(exitCodeText);
const events = readEvents(eventsFile);
const failed = new Set(events.filter((e) => !e.ok || e.directive).map(key));
const passedNames = new Set(events.filter((e) => e.nesting === 0 && e.ok && !e.directive).map(key));
const pass = expected.filter((name) => passedNames.has(name) && !failed.has(name)).length;
// Failures: expected tests that did not pass, and any other test that failed.
const extraFailures = [...failed].filter((name) => !expected.includes(name)).length;
const fail = expected.length - pass + extraFailures;
const missing = expected.filter((name) => !passedNames.has(name) && !failed.has(name));
for (const name of missing) console.error(`${suite}: no result for "${name}"`);
const passed = exitCode === 0 && fail === 0;
console.log(JSON.stringify({ passed, pass, fail, expected: expected.length, exit_code: exitCode }));
