// A plausible but wrong limiter (the classic boundary bug): each key's window starts at its first request
// and resetAt = now + windowMs, instead of fixed clock buckets. It passes the public tests, which start
// the clock at 0 where both agree, and fails the held-out ones.

export interface RateLimiterOptions {
  limit: number;
  windowMs: number;
  now?: () => number;
}

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  resetAt: number;
}

export class FixedWindowRateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, { resetAt: number; count: number }>();

  constructor(options: RateLimiterOptions) {
    if (!Number.isInteger(options.limit) || options.limit <= 0) throw new RangeError("limit");
    if (!Number.isInteger(options.windowMs) || options.windowMs <= 0) throw new RangeError("windowMs");
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.now = options.now ?? Date.now;
  }

  hit(key: string): RateLimitDecision {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now >= w.resetAt) {
      w = { resetAt: now + this.windowMs, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.limit) return { allowed: false, remaining: 0, resetAt: w.resetAt };
    w.count++;
    return { allowed: true, remaining: this.limit - w.count, resetAt: w.resetAt };
  }

  peek(key: string): RateLimitDecision {
    const now = this.now();
    const w = this.windows.get(key);
    if (!w || now >= w.resetAt) return { allowed: true, remaining: this.limit, resetAt: now + this.windowMs };
    const remaining = Math.max(0, this.limit - w.count);
    return { allowed: remaining > 0, remaining, resetAt: w.resetAt };
  }

  reset(key: string): void {
    this.windows.delete(key);
  }
}
