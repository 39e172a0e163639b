/**
 * Tag index of the memory backend: tag → keys written with it, and key → its tags. Deleting a tag costs the
 * keys it holds. The backend calls {@link remove} whenever a key leaves the cache (deleted, evicted, purged
 * once expired), so the index holds only keys the cache holds: at most `size` keys, whatever the number of
 * distinct tags.
 */
export class MemoryTagIndex {
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly tagsByKey = new Map<string, string[]>();

  add(key: string, tags: readonly string[]): void {
    if (tags.length === 0) return;
    let own = this.tagsByKey.get(key);
    if (!own) {
      own = [];
      this.tagsByKey.set(key, own);
    }
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysByTag.set(tag, keys);
      }
      if (keys.has(key)) continue;
      keys.add(key);
      own.push(tag);
    }
  }

  /** Removes a tag's index and answers the keys it held. */
  take(tag: string): string[] {
    const keys = this.keysByTag.get(tag);
    if (!keys) return [];
    this.keysByTag.delete(tag);
    for (const key of keys) {
      const own = this.tagsByKey.get(key) as string[];
      if (own.length === 1) this.tagsByKey.delete(key);
      else own.splice(own.indexOf(tag), 1);
    }
    return [...keys];
  }

  /** Forgets a key that left the cache, and the indexes it leaves empty. */
  remove(key: string): void {
    const own = this.tagsByKey.get(key);
    if (!own) return;
    this.tagsByKey.delete(key);
    for (const tag of own) {
      const keys = this.keysByTag.get(tag) as Set<string>;
      keys.delete(key);
      if (keys.size === 0) this.keysByTag.delete(tag);
    }
  }

  /** Number of keys indexed under `tag`. */
  size(tag: string): number {
    return this.keysByTag.get(tag)?.size ?? 0;
  }

  /** Number of tags with an index, and of keys indexed under any tag. */
  counts(): { tags: number; keys: number } {
    return { tags: this.keysByTag.size, keys: this.tagsByKey.size };
  }

  clear(): void {
    this.keysByTag.clear();
    this.tagsByKey.clear();
  }
}
