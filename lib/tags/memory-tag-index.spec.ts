import { MemoryTagIndex } from './memory-tag-index.js';

describe('MemoryTagIndex', () => {
  it('takes the keys of a tag once', () => {
    const index = new MemoryTagIndex(() => true);
    index.add('a', ['t1', 't2']);
    index.add('b', ['t1']);
    expect(index.take('t1').sort()).toEqual(['a', 'b']);
    expect(index.take('t1')).toEqual([]);
    expect(index.take('t2')).toEqual(['a']);
  });

  it('stays within twice its live keys as keys die, and drops empty tags on prune', () => {
    const live = new Set<string>();
    const index = new MemoryTagIndex((key) => live.has(key));
    for (let i = 0; i < 10_000; i++) {
      const key = `k${i}`;
      live.add(key);
      index.add(key, ['t']);
      live.delete(`k${i - 10}`); // at most 10 keys alive at any time
      expect(index.size('t')).toBeLessThanOrEqual(128);
    }
    live.clear();
    index.prune();
    expect(index.size('t')).toBe(0);
    expect(index.take('t')).toEqual([]);
  });
});
