// A fixed-window rate limiter: see TASK.md for the behaviour it must have.

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

export class FixedWindowRateLimiter {
  constructor(options: RateLimiterOptions) {
    throw new Error("not implemented");
  }

  hit(key: string): RateLimitDecision {
    throw new Error("not implemented");
  }

  peek(key: string): RateLimitDecision {
    throw new Error("not implemented");
  }

  reset(key: string): void {
    throw new Error("not implemented");
  }
}
