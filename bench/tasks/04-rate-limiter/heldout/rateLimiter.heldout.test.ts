// Held-out validation for task 04: never shown to the agent. The boundary tests fail for a window that
// rolls from a key's first request (resetAt = now + windowMs) instead of fixed clock buckets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FixedWindowRateLimiter } from "../src/rateLimiter";

function clock(start: number) {
  let t = start;
  return { now: () => t, set: (value: number) => { t = value; } };
}

test("resetAt is the end of the clock bucket, not first request + windowMs", () => {
  const c = clock(1500);
  const limiter = new FixedWindowRateLimiter({ limit: 2, windowMs: 1000, now: c.now });
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 1, resetAt: 2000 });
  c.set(1999);
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: 2000 });
});

test("the budget renews at the bucket boundary even if the first request came late in the bucket", () => {
  const c = clock(1900);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 1000, now: c.now });
  assert.equal(limiter.hit("k").allowed, true);
  c.set(1999);
  assert.deepEqual(limiter.hit("k"), { allowed: false, remaining: 0, resetAt: 2000 });
  c.set(2000);
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: 3000 });
  c.set(2899);
  assert.deepEqual(limiter.hit("k"), { allowed: false, remaining: 0, resetAt: 3000 });
});

test("a request just before the boundary and one at it fall in different windows", () => {
  const c = clock(999);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 1000, now: c.now });
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: 1000 });
  c.set(1000);
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: 2000 });
});

test("buckets are aligned for realistic epoch timestamps", () => {
  const start = 1_700_000_012_345;
  const c = clock(start);
  const limiter = new FixedWindowRateLimiter({ limit: 5, windowMs: 60_000, now: c.now });
  const expectedReset = Math.floor(start / 60_000) * 60_000 + 60_000;
  assert.deepEqual(limiter.hit("ip"), { allowed: true, remaining: 4, resetAt: expectedReset });
  c.set(expectedReset - 1);
  assert.equal(limiter.hit("ip").resetAt, expectedReset);
  c.set(expectedReset);
  assert.deepEqual(limiter.hit("ip"), { allowed: true, remaining: 4, resetAt: expectedReset + 60_000 });
});

test("short windows stay aligned at realistic epoch timestamps (no 32-bit bucket numbers)", () => {
  // 1.7e12 ms / 250 ms is about 6.8e9 buckets, past what (x | 0) or Math.trunc into 32 bits can hold.
  const start = 1_700_000_012_345;
  const c = clock(start);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 250, now: c.now });
  const expectedReset = Math.floor(start / 250) * 250 + 250;
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: expectedReset });
  assert.deepEqual(limiter.peek("k"), { allowed: false, remaining: 0, resetAt: expectedReset });
  c.set(expectedReset);
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: expectedReset + 250 });
});

test("skipped windows do not carry counts over", () => {
  const c = clock(0);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 100, now: c.now });
  assert.equal(limiter.hit("k").allowed, true);
  c.set(550);
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 0, resetAt: 600 });
});

test("refused requests do not use up budget of the next window or the current one", () => {
  const c = clock(0);
  const limiter = new FixedWindowRateLimiter({ limit: 2, windowMs: 1000, now: c.now });
  limiter.hit("k");
  limiter.hit("k");
  for (let i = 0; i < 5; i++) assert.equal(limiter.hit("k").allowed, false);
  assert.deepEqual(limiter.peek("k"), { allowed: false, remaining: 0, resetAt: 1000 });
  c.set(1000);
  assert.deepEqual(limiter.hit("k"), { allowed: true, remaining: 1, resetAt: 2000 });
});

test("peek reports the budget without recording a request", () => {
  const c = clock(250);
  const limiter = new FixedWindowRateLimiter({ limit: 2, windowMs: 1000, now: c.now });
  assert.deepEqual(limiter.peek("k"), { allowed: true, remaining: 2, resetAt: 1000 });
  assert.deepEqual(limiter.peek("k"), { allowed: true, remaining: 2, resetAt: 1000 });
  limiter.hit("k");
  assert.deepEqual(limiter.peek("k"), { allowed: true, remaining: 1, resetAt: 1000 });
  limiter.hit("k");
  assert.deepEqual(limiter.peek("k"), { allowed: false, remaining: 0, resetAt: 1000 });
  c.set(1700);
  assert.deepEqual(limiter.peek("k"), { allowed: true, remaining: 2, resetAt: 2000 });
});

test("reset forgets a key without touching others", () => {
  const c = clock(10);
  const limiter = new FixedWindowRateLimiter({ limit: 1, windowMs: 1000, now: c.now });
  limiter.hit("a");
  limiter.hit("b");
  limiter.reset("a");
  assert.equal(limiter.hit("a").allowed, true);
  assert.equal(limiter.hit("b").allowed, false);
});

test("the constructor rejects limits and windows that are not positive integers", () => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new FixedWindowRateLimiter({ limit: bad, windowMs: 1000 }), RangeError);
    assert.throws(() => new FixedWindowRateLimiter({ limit: 1, windowMs: bad }), RangeError);
  }
});

test("the clock defaults to Date.now", () => {
  // The real clock, not a replaced Date.now: an implementation may take its reference to Date.now when
  // the module loads. An hour-long window ends at the next full hour of the epoch.
  const hour = 3_600_000;
  const before = Date.now();
  const decision = new FixedWindowRateLimiter({ limit: 1, windowMs: hour }).hit("k");
  const after = Date.now();
  const candidates = [before, after].map((t) => Math.floor(t / hour) * hour + hour);
  assert.ok(candidates.includes(decision.resetAt), `resetAt ${decision.resetAt}, expected ${candidates[0]}`);
  assert.equal(decision.allowed, true);
});
