import { test } from "node:test";
import assert from "node:assert/strict";
import { FixedWindowRateLimiter } from "../src/rateLimiter";

function clock(start: number) {
  let t = start;
  return { now: () => t, set: (value: number) => { t = value; } };
}

test("allows up to the limit and refuses the next request in the same window", () => {
  const c = clock(0);
  const limiter = new FixedWindowRateLimiter({ limit: 3, windowMs: 1000, now: c.now });
  assert.deepEqual(limiter.hit("a"), { allowed: true, remaining: 2, resetAt: 1000 });
  assert.deepEqual(limiter.hit("a"), { allowed: true, remaining: 1, resetAt: 1000 });
  assert.deepEqual(limiter.hit("a"), { allowed: true, remaining: 0, resetAt: 1000 });
  assert.deepEqual(limiter.hit("a"), { allowed: false, remaining: 0, resetAt: 1000 });
});

test("keys have separate budgets", () => {
  const c = clock(0);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 1000, now: c.now });
  assert.equal(limiter.hit("a").allowed, true);
  assert.equal(limiter.hit("b").allowed, true);
  assert.equal(limiter.hit("a").allowed, false);
});

test("a new window brings a fresh budget", () => {
  const c = clock(0);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 1000, now: c.now });
  assert.equal(limiter.hit("a").allowed, true);
  c.set(1000);
  assert.deepEqual(limiter.hit("a"), { allowed: true, remaining: 0, resetAt: 2000 });
});
