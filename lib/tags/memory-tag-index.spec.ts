import { MemoryTagIndex } from './memory-tag-index.js';

describe('MemoryTagIndex', () => {
  it('takes the keys of a tag once', () => {
    const index = new MemoryTagIndex();
    index.add('a', ['t1', 't2']);
    index.add('b', ['t1']);
    expect(index.take('t1').sort()).toEqual(['a', 'b']);
    expect(index.take('t1')).toEqual([]);
    expect(index.take('t2')).toEqual(['a']);
    expect(index.counts()).toEqual({ tags: 0, keys: 0 });
  });

  it('forgets a removed key in every tag, and drops the indexes it leaves empty', () => {
    const index = new MemoryTagIndex();
    index.add('a', ['t1', 't2']);
    index.add('a', ['t2', 't3']); // re-tagging adds, never duplicates
    index.add('b', ['t1']);
    expect(index.counts()).toEqual({ tags: 3, keys: 2 });
    index.remove('a');
    expect(index.counts()).toEqual({ tags: 1, keys: 1 });
    expect(index.take('t1')).toEqual(['b']);
    index.remove('b'); // already taken with its only tag: nothing left to forget
    index.remove('never-added');
    expect(index.counts()).toEqual({ tags: 0, keys: 0 });
  });

  it('a key taken through one tag stays indexed under its others until removed', () => {
    const index = new MemoryTagIndex();
    index.add('a', ['t1', 't2']);
    expect(index.take('t1')).toEqual(['a']);
    expect(index.size('t2')).toBe(1);
    index.remove('a');
    expect(index.size('t2')).toBe(0);
    expect(index.counts()).toEqual({ tags: 0, keys: 0 });
  });
});
