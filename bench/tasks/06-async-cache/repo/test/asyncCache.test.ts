import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncCache } from "../src/asyncCache";

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("a loaded value is served from the cache", async () => {
  let calls = 0;
  const cache = new AsyncCache(async (key) => { calls++; return key.toUpperCase(); });
  assert.equal(await cache.get("a"), "A");
  assert.equal(await cache.get("a"), "A");
  assert.equal(calls, 1);
  assert.equal(cache.has("a"), true);
});

test("concurrent gets of one key call the loader once", async () => {
  let calls = 0;
  const cache = new AsyncCache(async (key) => { calls++; await tick(); return `${key}:${calls}`; });
  const results = await Promise.all([cache.get("k"), cache.get("k"), cache.get("k")]);
  assert.deepEqual(results, ["k:1", "k:1", "k:1"]);
  assert.equal(calls, 1);
});

test("invalidate makes the next get load again", async () => {
  let calls = 0;
  const cache = new AsyncCache(async () => ++calls);
  assert.equal(await cache.get("k"), 1);
  cache.invalidate("k");
  assert.equal(cache.has("k"), false);
  assert.equal(await cache.get("k"), 2);
});
