import { test } from "node:test";
import assert from "node:assert/strict";
import { compareVersions, satisfies } from "../src/semver";

test("MAJOR, MINOR and PATCH compare as numbers", () => {
  assert.equal(compareVersions("1.10.0", "1.9.0"), 1);
  assert.equal(compareVersions("2.0.0", "10.0.0"), -1);
  assert.equal(compareVersions("1.2.3", "1.2.3"), 0);
});

test("a pre-release is lower than its release", () => {
  assert.equal(compareVersions("1.0.0-alpha", "1.0.0"), -1);
});

test("caret, tilde and plain comparators", () => {
  assert.equal(satisfies("1.9.0", "^1.2.3"), true);
  assert.equal(satisfies("2.0.0", "^1.2.3"), false);
  assert.equal(satisfies("1.2.9", "~1.2.3"), true);
  assert.equal(satisfies("1.3.0", "~1.2.3"), false);
  assert.equal(satisfies("1.5.0", ">=1.0.0 <2.0.0"), true);
  assert.equal(satisfies("3.1.0", "1.0.0 || 3.1.0"), true);
});

test("something that is not a version is refused", () => {
  assert.throws(() => compareVersions("1.2", "1.2.0"), TypeError);
});
