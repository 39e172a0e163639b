/**
 * Tag index of the memory backend: tag → keys written with it. Deleting a tag costs the keys it holds.
 * Keys that expired or were evicted are dropped lazily: a tag's set is pruned each time it doubles in size,
 * and every tag on the backend's periodic sweep, so an index never outgrows twice its live keys for long.
 */
export class MemoryTagIndex {
  private readonly tags = new Map<string, { keys: Set<string>; pruneAt: number }>();

  /** @param alive whether a key is still stored (not expired, not evicted) */
  constructor(private readonly alive: (key: string) => boolean) {}

  add(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      let entry = this.tags.get(tag);
      if (!entry) {
        entry = { keys: new Set(), pruneAt: 64 };
        this.tags.set(tag, entry);
      }
      entry.keys.add(key);
      if (entry.keys.size >= entry.pruneAt) {
        this.pruneKeys(entry.keys);
        entry.pruneAt = Math.max(64, entry.keys.size * 2);
      }
    }
  }

  /** Removes a tag's index and answers the keys it held. */
  take(tag: string): string[] {
    const entry = this.tags.get(tag);
    if (!entry) return [];
    this.tags.delete(tag);
    return [...entry.keys];
  }

  /** Drops dead keys from every index, and indexes left empty. */
  prune(): void {
    for (const [tag, entry] of this.tags) {
      this.pruneKeys(entry.keys);
      if (entry.keys.size === 0) this.tags.delete(tag);
    }
  }

  /** Number of keys indexed under `tag` (dead ones included until pruned). For tests. */
  size(tag: string): number {
    return this.tags.get(tag)?.keys.size ?? 0;
  }

  clear(): void {
    this.tags.clear();
  }

  private pruneKeys(keys: Set<string>): void {
    for (const key of keys) if (!this.alive(key)) keys.delete(key);
  }
}
