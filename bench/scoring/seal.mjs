// Loaded (node --import) into every process that runs test files, before the test file and so before
// any code under test: freezes the assertion and test modules, so that code under test
// cannot disarm an assertion (assert.equal = () => {}) or a test (test.skip). The assertions compare
// with node's internal copies of the built-ins (primordials), which no user code can reach.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const modules = ["node:assert", "node:assert/strict", "node:test"].map((name) => require(name));
// The module objects and every function and object they hold (assert.strict, AssertionError and its
// prototype, test.skip, ...), but not the built-in prototypes behind them: freezing Error.prototype would
// break ordinary code (this.name = "CsvError" in an Error subclass), and the mock tracker keeps state.
function freezeDeep(root) {
  const seen = new Set();
  const pending = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) continue;
    seen.add(value);
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      if (key === "mock") continue;
      const desc = Object.getOwnPropertyDescriptor(value, key);
      if (desc && "value" in desc) pending.push(desc.value);
    }
  }
}

for (const m of modules) freezeDeep(m);
