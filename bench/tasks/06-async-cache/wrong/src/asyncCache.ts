// A plausible wrong fix (kept for the task checks): a map of promises shares concurrent loads, but a
// failure deletes the key whatever it holds now (evicting a newer load after invalidate), has() counts
// loads in progress, and a loader that throws synchronously makes get() throw.

export type Loader<V> = (key: string) => Promise<V>;

export class AsyncCache<V> {
  private readonly promises = new Map<string, Promise<V>>();

  constructor(private readonly loader: Loader<V>) {}

  get(key: string): Promise<V> {
    const cached = this.promises.get(key);
    if (cached) return cached;
    const promise = this.loader(key);
    this.promises.set(key, promise);
    promise.catch(() => this.promises.delete(key));
    return promise;
  }

  has(key: string): boolean {
    return this.promises.has(key);
  }

  invalidate(key: string): void {
    this.promises.delete(key);
  }
}
