// Held-out validation for task 08: never shown to the agent. Each test names the part of TASK.md it
// checks; the pre-release order is the example chain of the SemVer 2.0.0 specification.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareVersions, satisfies } from "../src/semver";

test("pre-release identifiers: numeric ones numerically, fewer identifiers lower, numeric below text", () => {
  const chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
    "1.0.0-rc.1", "1.0.0"];
  for (let i = 0; i < chain.length; i++) {
    for (let j = 0; j < chain.length; j++) {
      assert.equal(compareVersions(chain[i], chain[j]), Math.sign(i - j), `${chain[i]} vs ${chain[j]}`);
    }
  }
  assert.equal(compareVersions("1.0.0-alpha.10", "1.0.0-alpha.9"), 1);
  assert.equal(compareVersions("1.0.0-2", "1.0.0-10"), -1);
  assert.equal(compareVersions("1.0.0-Z", "1.0.0-a"), -1);
  assert.equal(compareVersions("1.0.0-a-b", "1.0.0-a"), 1);
});

test("build metadata is ignored", () => {
  assert.equal(compareVersions("1.0.0+build.1", "1.0.0+exp.sha.5114f85"), 0);
  assert.equal(compareVersions("1.0.0-rc.1+build.2", "1.0.0-rc.1"), 0);
  assert.equal(satisfies("1.2.3+build", "=1.2.3"), true);
  assert.equal(satisfies("1.2.3+build", "1.2.3"), true);
});

test("numbers of any size compare numerically", () => {
  assert.equal(compareVersions("1.0.9007199254740993", "1.0.9007199254740992"), 1);
  assert.equal(compareVersions("99999999999999999999.0.0", "100000000000000000000.0.0"), -1);
  assert.equal(compareVersions("1.0.0-18446744073709551617", "1.0.0-18446744073709551616"), 1);
});

test("caret below 1.0.0 stops at the left-most non-zero part", () => {
  assert.equal(satisfies("0.2.9", "^0.2.3"), true);
  assert.equal(satisfies("0.3.0", "^0.2.3"), false);
  assert.equal(satisfies("0.2.2", "^0.2.3"), false);
  assert.equal(satisfies("0.0.3", "^0.0.3"), true);
  assert.equal(satisfies("0.0.4", "^0.0.3"), false);
  assert.equal(satisfies("0.0.0", "^0.0.0"), true);
  assert.equal(satisfies("0.0.1", "^0.0.0"), false);
  assert.equal(satisfies("1.99.99", "^1.0.0"), true);
});

test("tilde allows patch-level changes, also below 1.0.0", () => {
  assert.equal(satisfies("0.2.9", "~0.2.3"), true);
  assert.equal(satisfies("0.3.0", "~0.2.3"), false);
  assert.equal(satisfies("1.2.2", "~1.2.3"), false);
  assert.equal(satisfies("1.2.99", "~1.2.0"), true);
});

test("a pre-release is admitted only next to a comparator with a pre-release of the same version", () => {
  assert.equal(satisfies("1.3.0-beta", "^1.2.3"), false);
  assert.equal(satisfies("1.2.3-beta.4", "^1.2.3-beta.2"), true);
  assert.equal(satisfies("1.2.3-beta.1", "^1.2.3-beta.2"), false);
  assert.equal(satisfies("1.2.4-beta.4", "^1.2.3-beta.2"), false);
  assert.equal(satisfies("3.0.0-alpha", "<3.0.0"), false);
  assert.equal(satisfies("1.3.0-beta", ">=1.3.0-alpha <2.0.0"), true);
  assert.equal(satisfies("1.4.0-beta", ">=1.3.0-alpha <2.0.0"), false);
  assert.equal(satisfies("1.4.0-beta", ">=1.3.0-alpha <2.0.0 || >=1.4.0-alpha"), true);
  assert.equal(satisfies("1.2.3-rc.1", "~1.2.3-beta"), true);
  assert.equal(satisfies("1.2.3-rc.1", "=1.2.3-rc.1"), true);
});

test("operators, sets and spacing", () => {
  assert.equal(satisfies("1.2.3", ">1.2.3"), false);
  assert.equal(satisfies("1.2.3", ">=1.2.3"), true);
  assert.equal(satisfies("1.2.3", "<=1.2.3"), true);
  assert.equal(satisfies("1.2.3", "<1.2.3"), false);
  assert.equal(satisfies("1.2.4", ">=1.0.0    <1.2.4"), false);
  assert.equal(satisfies("2.5.0", "  1.0.0 ||2.5.0  "), true);
  assert.equal(satisfies("2.5.0", "^1.0.0 || ^3.0.0"), false);
});

test("malformed versions are refused", () => {
  for (const bad of ["1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3+", "v1.2.3", "1.2.3-a..b",
    "1.2.3-a_b", " 1.2.3", "1.2.-3", ""]) {
    assert.throws(() => compareVersions(bad, "1.0.0"), TypeError, JSON.stringify(bad));
  }
  assert.doesNotThrow(() => compareVersions("1.2.3-0a", "1.2.3-00a"));
});

test("malformed ranges are refused", () => {
  for (const bad of ["", "   ", ">=", "1.2.3 ||", "|| 1.2.3", "^1.2", ">= 1.2.3", "~>1.2.3"]) {
    assert.throws(() => satisfies("1.2.3", bad), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => satisfies("1.2", "*1.2.3".slice(1)), TypeError);
});
