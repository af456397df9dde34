// Variant (bench check, written apart from solution/): the default clock is taken when the module loads.

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


const systemClock = Date.now;

type Slot = [windowIndex: number, count: number];

export class FixedWindowRateLimiter {
  private slots = new Map<string, Slot>();
  private readonly clock: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    for (const field of ["limit", "windowMs"] as const) {
      const value = options[field];
      if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${field}: ${value} is not a positive integer`);
    }
    this.clock = options.now ?? systemClock;
  }

  hit(key: string): RateLimitDecision {
    return this.decide(key, true);
  }

  peek(key: string): RateLimitDecision {
    return this.decide(key, false);
  }

  reset(key: string): void {
    this.slots.delete(key);
  }

  private decide(key: string, record: boolean): RateLimitDecision {
    const { limit, windowMs } = this.options;
    const index = Math.floor(this.clock() / windowMs);
    const resetAt = (index + 1) * windowMs;
    const slot = this.slots.get(key);
    const count = slot && slot[0] === index ? slot[1] : 0;
    if (!record) return { allowed: count < limit, remaining: limit - count, resetAt };
    if (count >= limit) return { allowed: false, remaining: 0, resetAt };
    this.slots.set(key, [index, count + 1]);
    return { allowed: true, remaining: limit - count - 1, resetAt };
  }
}
