// Variant (bench check, written apart from solution/): each load is a ticket object; the cache slot of a
// key points at the current ticket, and only the current ticket may fill or clear the slot.

export type Loader<V> = (key: string) => Promise<V>;

interface Ticket<V> {
  done: boolean;
  value?: V;
  result: Promise<V>;
}

export class AsyncCache<V> {
  private readonly slots = new Map<string, Ticket<V>>();

  constructor(private readonly loader: Loader<V>) {}

  get(key: string): Promise<V> {
    const existing = this.slots.get(key);
    if (existing) return existing.done ? Promise.resolve(existing.value as V) : existing.result;
    const ticket = { done: false } as Ticket<V>;
    ticket.result = this.run(key, ticket);
    this.slots.set(key, ticket);
    return ticket.result;
  }

  has(key: string): boolean {
    return this.slots.get(key)?.done === true;
  }

  invalidate(key: string): void {
    this.slots.delete(key);
  }

  private async run(key: string, ticket: Ticket<V>): Promise<V> {
    await undefined; // the slot is set before the loader can settle or throw
    try {
      const value = await this.loader(key);
      if (this.slots.get(key) === ticket) {
        ticket.value = value;
        ticket.done = true;
      }
      return value;
    } catch (error) {
      if (this.slots.get(key) === ticket) this.slots.delete(key);
      throw error;
    }
  }
}
