// A cache in front of a slow asynchronous loader (a database, a remote service).
//
// Contract:
//  - get(key) resolves to the cached value when there is one; otherwise it calls loader(key), caches
//    the value it resolves to, and resolves to it.
//  - has(key) tells whether a loaded value is cached for key.
//  - invalidate(key) forgets the cached value of key, so that the next get(key) loads it again.

export type Loader<V> = (key: string) => Promise<V>;

export class AsyncCache<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly loader: Loader<V>) {}

  async get(key: string): Promise<V> {
    if (this.values.has(key)) return this.values.get(key)!;
    const value = await this.loader(key);
    this.values.set(key, value);
    return value;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  invalidate(key: string): void {
    this.values.delete(key);
  }
}
