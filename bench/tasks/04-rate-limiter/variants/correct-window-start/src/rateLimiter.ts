// Variant (bench check, written apart from solution/): each key remembers the start of its window.

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


function requirePositiveInteger(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer (got ${value})`);
  }
  return value;
}

export class FixedWindowRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: () => number;
  readonly #windows: Record<string, { start: number; used: number }> = Object.create(null);

  constructor(options: RateLimiterOptions) {
    this.#limit = requirePositiveInteger("limit", options.limit);
    this.#windowMs = requirePositiveInteger("windowMs", options.windowMs);
    this.#clock = options.now ?? (() => Date.now());
  }

  hit(key: string): RateLimitDecision {
    const { start, used } = this.#current(key);
    const end = start + this.#windowMs;
    if (used === this.#limit) return { allowed: false, remaining: 0, resetAt: end };
    this.#windows[key] = { start, used: used + 1 };
    return { allowed: true, remaining: this.#limit - (used + 1), resetAt: end };
  }

  peek(key: string): RateLimitDecision {
    const { start, used } = this.#current(key);
    const remaining = this.#limit - used;
    return { allowed: remaining > 0, remaining, resetAt: start + this.#windowMs };
  }

  reset(key: string): void {
    delete this.#windows[key];
  }

  // The window that contains the clock's time now, and what the key used of it.
  #current(key: string): { start: number; used: number } {
    const t = this.#clock();
    const offset = ((t % this.#windowMs) + this.#windowMs) % this.#windowMs;
    const start = t - offset;
    const known = this.#windows[key];
    return { start, used: known !== undefined && known.start === start ? known.used : 0 };
  }
}
