// Variant (bench check): a failed load stays in the cache, so later gets get the old error.
// A cache in front of a slow asynchronous loader (a database, a remote service).
//
// Contract (see TASK.md): concurrent gets of one key share one load; failed loads are not cached;
// invalidate() detaches an in-flight load so that its outcome never touches the cache afterwards;
// has() is true only for a settled, successful value.

export type Loader<V> = (key: string) => Promise<V>;

type Entry<V> = { state: "loading"; promise: Promise<V> } | { state: "ready"; value: V };

export class AsyncCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly loader: Loader<V>) {}

  get(key: string): Promise<V> {
    const entry = this.entries.get(key);
    if (entry?.state === "ready") return Promise.resolve(entry.value);
    if (entry?.state === "loading") return entry.promise;

    // Promise.resolve().then(...) turns a loader that throws synchronously into a rejected promise.
    const promise = Promise.resolve().then(() => this.loader(key));
    const loading: Entry<V> = { state: "loading", promise };
    this.entries.set(key, loading);
    // Only the load that is still the current entry may update it: after invalidate() (and perhaps a
    // newer load) this load's outcome is for its waiting callers only.
    promise.then(
      (value) => {
        if (this.entries.get(key) === loading) this.entries.set(key, { state: "ready", value });
      },
      () => {
        // the rejected promise stays: later gets return it
      },
    );
    return promise;
  }

  has(key: string): boolean {
    return this.entries.get(key)?.state === "ready";
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }
}
