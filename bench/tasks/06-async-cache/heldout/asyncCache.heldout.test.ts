// Held-out validation for task 06: never shown to the agent. The loader hands out promises that the test
// settles by hand, so that each interleaving of calls and load completions is forced, not left to timing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncCache } from "../src/asyncCache";

interface PendingLoad {
  key: string;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
}

function controlledLoader() {
  const loads: PendingLoad[] = [];
  const loader = (key: string) =>
    new Promise<string>((resolve, reject) => { loads.push({ key, resolve, reject }); });
  return { loads, loader };
}

// Lets every pending promise callback run.
const settle = () => new Promise((resolve) => setImmediate(resolve));

test("rule 2: concurrent callers share one load and its error", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const waiting = [cache.get("k"), cache.get("k"), cache.get("k")];
  await settle();
  assert.equal(loads.length, 1);
  const error = new Error("backend down");
  loads[0].reject(error);
  for (const p of waiting) await assert.rejects(p, (e) => e === error);
});

test("rule 2: many concurrent callers, one loader call", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const waiting = Array.from({ length: 100 }, () => cache.get("k"));
  await settle();
  assert.equal(loads.length, 1);
  loads[0].resolve("v");
  assert.deepEqual(new Set(await Promise.all(waiting)), new Set(["v"]));
  assert.equal(await cache.get("k"), "v");
  assert.equal(loads.length, 1);
});

test("rule 2: different keys load independently and at the same time", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const a = cache.get("a");
  const b = cache.get("b");
  await settle();
  assert.deepEqual(loads.map((l) => l.key), ["a", "b"]);
  loads[1].resolve("B");
  assert.equal(await b, "B");
  loads[0].resolve("A");
  assert.equal(await a, "A");
});

test("rule 3: a failed load is not cached and the next get loads again", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const first = cache.get("k");
  await settle();
  loads[0].reject(new Error("timeout"));
  await assert.rejects(first, /timeout/);
  assert.equal(cache.has("k"), false);
  const second = cache.get("k");
  await settle();
  assert.equal(loads.length, 2);
  loads[1].resolve("ok");
  assert.equal(await second, "ok");
  assert.equal(cache.has("k"), true);
});

test("rule 3: a loader that throws synchronously gives a rejected promise, not a throw", async () => {
  let calls = 0;
  const cache = new AsyncCache<string>((key) => {
    calls++;
    if (calls === 1) throw new Error("sync failure");
    return Promise.resolve(`${key}!`);
  });
  let promise: Promise<string> | undefined;
  assert.doesNotThrow(() => { promise = cache.get("k"); });
  await assert.rejects(promise!, /sync failure/);
  assert.equal(await cache.get("k"), "k!");
  assert.equal(calls, 2);
});

test("rule 4: invalidate during a load: waiting callers get its value, the cache does not keep it", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const waiting = cache.get("k");
  await settle();
  cache.invalidate("k");
  loads[0].resolve("stale");
  assert.equal(await waiting, "stale");
  await settle();
  assert.equal(cache.has("k"), false);
  const fresh = cache.get("k");
  await settle();
  assert.equal(loads.length, 2);
  loads[1].resolve("fresh");
  assert.equal(await fresh, "fresh");
});

test("rule 4: a get after invalidate starts a new load instead of joining the old one", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const old = cache.get("k");
  await settle();
  cache.invalidate("k");
  const current = cache.get("k");
  await settle();
  assert.equal(loads.length, 2);
  loads[1].resolve("new");
  loads[0].resolve("old");
  assert.equal(await old, "old");
  assert.equal(await current, "new");
  await settle();
  assert.equal(await cache.get("k"), "new");
  assert.equal(loads.length, 2);
});

test("rule 4: an old load finishing after a newer one does not overwrite it", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  cache.get("k");
  await settle();
  cache.invalidate("k");
  const current = cache.get("k");
  await settle();
  loads[1].resolve("new");
  assert.equal(await current, "new");
  loads[0].resolve("old");
  await settle();
  assert.equal(await cache.get("k"), "new");
});

test("rule 4: an old load failing does not disturb a newer load in progress", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const old = cache.get("k");
  await settle();
  cache.invalidate("k");
  const current = cache.get("k");
  await settle();
  loads[0].reject(new Error("old failure"));
  await assert.rejects(old, /old failure/);
  await settle();
  const joined = cache.get("k");
  await settle();
  assert.equal(loads.length, 2, "the newer load is still in progress: a get must join it");
  loads[1].resolve("new");
  assert.equal(await current, "new");
  assert.equal(await joined, "new");
  assert.equal(cache.has("k"), true);
});

test("rule 4: invalidating one key does not stop a load of another key from being cached", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  const b = cache.get("b");
  await settle();
  cache.invalidate("a");
  loads[0].resolve("value of b");
  assert.equal(await b, "value of b");
  await settle();
  assert.equal(cache.has("b"), true);
  assert.equal(await cache.get("b"), "value of b");
  assert.equal(loads.length, 1);
});

test("rule 5: has is false while loading and after invalidate, true once loaded", async () => {
  const { loads, loader } = controlledLoader();
  const cache = new AsyncCache(loader);
  assert.equal(cache.has("k"), false);
  const p = cache.get("k");
  await settle();
  assert.equal(cache.has("k"), false);
  loads[0].resolve("v");
  await p;
  assert.equal(cache.has("k"), true);
  cache.invalidate("k");
  assert.equal(cache.has("k"), false);
  cache.invalidate("never-loaded");
});
