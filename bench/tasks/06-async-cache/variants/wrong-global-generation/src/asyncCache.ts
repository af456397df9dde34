// Variant (bench check): one generation counter for the whole cache: invalidating any key makes every load in progress uncacheable.
// A cache in front of a slow asynchronous loader (a database, a remote service).
//
// Contract (see TASK.md): concurrent gets of one key share one load; failed loads are not cached;
// invalidate() detaches an in-flight load so that its outcome never touches the cache afterwards;
// has() is true only for a settled, successful value.

export type Loader<V> = (key: string) => Promise<V>;

type Entry<V> = { state: "loading"; promise: Promise<V> } | { state: "ready"; value: V };

export class AsyncCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private generation = 0;

  constructor(private readonly loader: Loader<V>) {}

  get(key: string): Promise<V> {
    const entry = this.entries.get(key);
    if (entry?.state === "ready") return Promise.resolve(entry.value);
    if (entry?.state === "loading") return entry.promise;

    // Promise.resolve().then(...) turns a loader that throws synchronously into a rejected promise.
    const promise = Promise.resolve().then(() => this.loader(key));
    const loading: Entry<V> = { state: "loading", promise };
    const startedIn = this.generation;
    this.entries.set(key, loading);
    // Only the load that is still the current entry may update it: after invalidate() (and perhaps a
    // newer load) this load's outcome is for its waiting callers only.
    promise.then(
      (value) => {
        if (this.generation === startedIn && this.entries.get(key) === loading) {
          this.entries.set(key, { state: "ready", value });
        } else if (this.entries.get(key) === loading) {
          this.entries.delete(key);
        }
      },
      () => {
        if (this.entries.get(key) === loading) this.entries.delete(key);
      },
    );
    return promise;
  }

  has(key: string): boolean {
    return this.entries.get(key)?.state === "ready";
  }

  invalidate(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }
}
