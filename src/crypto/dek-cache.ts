export interface CachedKey {
  key: Buffer;
  tenant: string;
  scope: string;
  generation: number;
}

/**
 * Unwrapped data keys in memory, bounded in count (least recently used goes first) and in age, so a
 * key shredded or retired by another process stops working here within `ttlMs` at the latest.
 * Evicted keys are not zeroed: a seal that already holds the buffer must not encrypt under zeros.
 */
export class DekCache {
  private readonly slots = new Map<string, { value: CachedKey; expires: number }>();

  constructor(
    private readonly max = 1024,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): CachedKey | undefined {
    const entry = this.slots.get(id);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.delete(id);
      return undefined;
    }
    // Re-insert to mark it most recently used (Map keeps insertion order).
    this.slots.delete(id);
    this.slots.set(id, entry);
    return entry.value;
  }

  set(id: string, value: CachedKey): void {
    this.slots.delete(id);
    this.slots.set(id, { value, expires: this.now() + this.ttlMs });
    while (this.slots.size > this.max) {
      const oldest = this.slots.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** The live entries (for publishing a transaction's keys to the shared cache). */
  *entries(): IterableIterator<[string, CachedKey]> {
    const now = this.now();
    for (const [id, entry] of this.slots) if (entry.expires > now) yield [id, entry.value];
  }

  delete(id: string): void {
    this.slots.delete(id);
  }

  clear(): void {
    for (const id of [...this.slots.keys()]) this.delete(id);
  }

  get size(): number {
    return this.slots.size;
  }
}
