// Variant (bench check, written apart from solution/): settled values, loads in progress and a version
// number per key, kept in three maps. A load may only write back while its key's version is unchanged.

export type Loader<V> = (key: string) => Promise<V>;

export class AsyncCache<V> {
  private readonly values = new Map<string, V>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private readonly versions = new Map<string, number>();

  constructor(private readonly loader: Loader<V>) {}

  get(key: string): Promise<V> {
    if (this.values.has(key)) return Promise.resolve(this.values.get(key) as V);
    const running = this.inFlight.get(key);
    if (running) return running;
    const version = this.versionOf(key);
    let load: Promise<V>;
    try {
      load = Promise.resolve(this.loader(key));
    } catch (error) {
      load = Promise.reject(error);
    }
    this.inFlight.set(key, load);
    const stillCurrent = () => this.versionOf(key) === version && this.inFlight.get(key) === load;
    load.then(
      (value) => {
        if (!stillCurrent()) return;
        this.inFlight.delete(key);
        this.values.set(key, value);
      },
      () => {
        if (stillCurrent()) this.inFlight.delete(key);
      },
    );
    return load;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  invalidate(key: string): void {
    this.values.delete(key);
    this.inFlight.delete(key);
    this.versions.set(key, this.versionOf(key) + 1);
  }

  private versionOf(key: string): number {
    return this.versions.get(key) ?? 0;
  }
}
