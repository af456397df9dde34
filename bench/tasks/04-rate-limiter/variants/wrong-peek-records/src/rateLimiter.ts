// Variant (bench check): peek records a request, like hit.
// A fixed-window rate limiter: each key has one counter per clock bucket [k * windowMs, (k + 1) * windowMs).

export interface RateLimiterOptions {
  /** Requests allowed per key in one window. */
  limit: number;
  /** Length of a window in milliseconds. */
  windowMs: number;
  /** The clock, in milliseconds. Defaults to Date.now. */
  now?: () => number;
}

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  resetAt: number;
}

interface WindowCount {
  bucket: number;
  count: number;
}

export class FixedWindowRateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly counts = new Map<string, WindowCount>();

  constructor(options: RateLimiterOptions) {
    if (!Number.isInteger(options.limit) || options.limit <= 0) {
      throw new RangeError(`limit must be a positive integer, got ${options.limit}`);
    }
    if (!Number.isInteger(options.windowMs) || options.windowMs <= 0) {
      throw new RangeError(`windowMs must be a positive integer, got ${options.windowMs}`);
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.now = options.now ?? Date.now;
  }

  hit(key: string): RateLimitDecision {
    const bucket = this.currentBucket();
    const used = this.usedIn(key, bucket);
    const resetAt = (bucket + 1) * this.windowMs;
    if (used >= this.limit) return { allowed: false, remaining: 0, resetAt };
    this.counts.set(key, { bucket, count: used + 1 });
    return { allowed: true, remaining: this.limit - used - 1, resetAt };
  }

  peek(key: string): RateLimitDecision {
    this.counts.set(key, { bucket: this.currentBucket(), count: this.usedIn(key, this.currentBucket()) + 1 });
    const bucket = this.currentBucket();
    const remaining = Math.max(0, this.limit - this.usedIn(key, bucket));
    return { allowed: remaining > 0, remaining, resetAt: (bucket + 1) * this.windowMs };
  }

  reset(key: string): void {
    this.counts.delete(key);
  }

  private currentBucket(): number {
    return Math.floor(this.now() / this.windowMs);
  }

  private usedIn(key: string, bucket: number): number {
    const entry = this.counts.get(key);
    return entry && entry.bucket === bucket ? entry.count : 0;
  }
}
