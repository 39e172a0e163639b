/**
 * A registered class's stored fields come back as own fields of the instance, as they were stored: decoding never
 * calls an accessor of the class. A setter on the prototype must not run on data read from the backend (anyone who
 * can write to Redis could run it with any argument), and an own field shadowing an inherited getter must still be
 * restored instead of failing every read (on mem://, every `set`).
 * Redis isolation: keys under `registered-fields:` in db 12 of the discovered Redis, deleted after each test.
 */
import { CacheService, createCache, registerCacheableClass, unregisterCacheableClass } from '../../lib/index.js';
import { functionFingerprint } from '../../lib/keys/fingerprint.js';
import { rawRedis, redisUrl } from '../support/redis.js';

const DB = 12;
const KEY = 'registered-fields:value';

/** Calls of the setter below, by any instance. */
let setterCalls: unknown[] = [];

class Note {
  text = '';
  /** Derived state the setter keeps, so a call shows in the value too. */
  length = 0;
  set body(value: string) {
    setterCalls.push(value);
    this.text = value;
    this.length = value.length;
  }
}

class Base {
  get id(): number {
    return 0;
  }
}
/** Own `id` (as a class field with define semantics writes it) over the getter `Base` declares. */
class Shadowing extends Base {
  constructor(id: number) {
    super();
    Object.defineProperty(this, 'id', { value: id, enumerable: true, writable: true, configurable: true });
  }
}

const backends: Array<[string, () => Promise<CacheService>]> = [
  ['mem://', () => createCache('mem://')],
  ['mem:// with secret', () => createCache('mem://', { secret: 's' })],
];
const url = redisUrl(DB);
if (url) backends.push([`redis db ${DB}`, () => createCache(url)]);

describe.each(backends)('registered class fields on %s', (_name, make) => {
  let cache: CacheService;
  beforeAll(async () => {
    registerCacheableClass(Note);
    registerCacheableClass(Shadowing);
    cache = await make();
  });
  afterEach(async () => {
    setterCalls = [];
    await cache.delete(KEY);
  });
  afterAll(async () => {
    await cache.close();
    unregisterCacheableClass(Note);
    unregisterCacheableClass(Shadowing);
  });

  it('restores an own field named like a prototype setter as the field, without calling the setter', async () => {
    const note = new Note();
    Object.defineProperty(note, 'body', { value: 'hello', enumerable: true, writable: true, configurable: true });
    await cache.set(KEY, note);
    const read = (await cache.get(KEY)) as Note & { body: string };
    expect(read).toBeInstanceOf(Note);
    expect(Object.getOwnPropertyDescriptor(read, 'body')?.value).toBe('hello');
    expect({ ...read }).toEqual({ text: '', length: 0, body: 'hello' });
    expect(setterCalls).toEqual([]);
  });

  it('stores and serves an instance whose own field shadows an inherited getter', async () => {
    await cache.set(KEY, new Shadowing(7));
    const read = (await cache.get(KEY, 'miss')) as unknown as Shadowing;
    expect(read).toBeInstanceOf(Shadowing);
    expect(read.id).toBe(7);
  });
});

if (url) {
  describe('a registered class named by a value written to Redis by something else', () => {
    let cache: CacheService;
    beforeAll(async () => {
      registerCacheableClass(Note);
      cache = await createCache(url);
    });
    afterAll(async () => {
      await cache.delete(KEY);
      await cache.close();
      unregisterCacheableClass(Note);
      setterCalls = [];
    });

    it('never runs a setter of the class with the stored data', async () => {
      const raw = rawRedis(url);
      try {
        const forged = { $: 'C', n: 'Note', f: functionFingerprint(Note as never), v: { body: 'injected' } };
        await raw.set(KEY, 'c1:t' + JSON.stringify(forged), 'EX', 60);
      } finally {
        raw.disconnect();
      }
      const read = (await cache.get(KEY)) as Note;
      expect(read).toBeInstanceOf(Note);
      expect(setterCalls).toEqual([]);
      expect(Object.keys(read)).toEqual(['body']);
      expect(Object.getOwnPropertyDescriptor(read, 'body')?.value).toBe('injected');
    });
  });
}
