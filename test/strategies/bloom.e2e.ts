/**
 * `@Bloom` (issue #13): a predicate behind a Bloom filter kept in the backend. A single filter answers `false` for
 * members never added without running the method; a dual filter learns the method's answers. The false positive rate
 * at capacity is measured against the configured one (the members are fixed strings, so the figure is exact and
 * repeatable). mem:// and Redis db 8; safe mode on an unreachable Redis; names start with "Bl".
 */
import { Controller, Get, Injectable, Param } from '@nestjs/common';
import request from 'supertest';
import {
  backgroundSettled,
  Bloom,
  bloomFilter,
  CacheDetect,
  CashewsConfigError,
  type CacheService,
} from '../../lib/index.js';
import { cleanup, closeApps, describeBackends, startApp } from '../support/strategy-fixtures.js';

const TAG = 'Bl';
const CAPACITY = 1_000;
const RATE = 0.01;

@Injectable()
class BlUsers {
  runs = 0;
  readonly existing = new Set<string>();

  @Bloom({ capacity: CAPACITY, falsePositiveRate: RATE, name: 'Bl:users', key: '{email}' })
  async exists(email: string): Promise<boolean> {
    this.runs++;
    return this.existing.has(email);
  }

  /** No confirming run: an answer straight from the bits (false positives included), to measure them. */
  @Bloom({ capacity: CAPACITY, falsePositiveRate: RATE, name: 'Bl:users', key: '{email}', check: false })
  async mightExist(email: string): Promise<boolean> {
    this.runs++;
    return this.existing.has(email);
  }

  @Bloom({ capacity: CAPACITY, dual: true, name: 'Bl:dual', key: '{n}' })
  async isPrime(n: number): Promise<boolean> {
    this.runs++;
    if (n < 2) return false;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;
  }
}

@Controller('bl')
class BlController {
  runs = 0;

  @Get('even/:n')
  @Bloom({ capacity: 100, dual: true, name: 'Bl:even', key: '{n}' })
  async even(@Param('n') n: string): Promise<boolean> {
    this.runs++;
    return Number(n) % 2 === 0;
  }
}

describe('@Bloom options', () => {
  const decorate = (options: Record<string, unknown>) => () =>
    Bloom({ capacity: 100, ...options } as never)({}, 'method', { value: async () => true });

  it.each([
    [{ capacity: 0 }, /capacity must be a whole number/],
    [{ capacity: 1.5 }, /capacity/],
    [{ falsePositiveRate: 0 }, /falsePositiveRate must be a number between 0 and 1/],
    [{ falsePositiveRate: 1 }, /falsePositiveRate/],
    [{ check: 'yes' }, /check must be true or false/],
    [{ dual: 1 }, /dual must be true or false/],
    [{ name: 'a b' }, /name must be/],
    [{ name: 'shared' }, /Give the member a key template too/],
    [{ capacity: 1e9, falsePositiveRate: 1e-9 }, /more than a Redis string holds/],
    [{ size: 3 }, /unknown option "size"/],
  ])('%j is refused with a CashewsConfigError', (options, message) => {
    expect(decorate(options)).toThrow(CashewsConfigError);
    expect(decorate(options)).toThrow(message);
  });

  it('bloomFilter() of a method that is not a started @Bloom method says what to pass', () => {
    expect(() => bloomFilter(async () => true)).toThrow(/not a @Bloom method of a provider instance/);
  });
});

describeBackends('@Bloom', ({ url }) => {
  let cache: CacheService;
  let users: BlUsers;
  let app: Awaited<ReturnType<typeof startApp>>['app'];

  beforeEach(async () => {
    await cleanup(url, TAG);
    await cleanup(url, 'bloom:Bl');
    ({ app, cache } = await startApp(url, [BlUsers], { controllers: [BlController] }));
    users = app.get(BlUsers);
  });
  afterEach(async () => {
    await backgroundSettled();
    await closeApps();
  });

  it('a member never added is answered false without running the method', async () => {
    users.existing.add('ann@example.com'); // exists upstream, but was never added to the filter
    const { result, hits } = await CacheDetect.run(() => users.exists('ann@example.com'));
    expect(result).toBe(false);
    expect(users.runs).toBe(0);
    expect(hits).toEqual([expect.objectContaining({ strategy: 'bloom', key: 'bloom:Bl:users' })]);
  });

  it('an added member runs the method to confirm; check: false answers true from the bits alone', async () => {
    users.existing.add('bob@example.com');
    await bloomFilter(users.exists).add('bob@example.com');
    expect(await users.exists('bob@example.com')).toBe(true);
    expect(users.runs).toBe(1);
    // The same filter (name), without the confirming run.
    expect(await users.mightExist('bob@example.com')).toBe(true);
    expect(users.runs).toBe(1);
    expect(await bloomFilter(users.exists).mightContain('bob@example.com')).toBe(true);
    expect(await bloomFilter(users.exists).mightContain('nobody@example.com')).toBe(false);
  });

  it('with reads switched off (cache.disabling) the method runs: bits that read as zeros are no answer', async () => {
    users.existing.add('eve@example.com');
    await bloomFilter(users.exists).add('eve@example.com');
    expect(await cache.disabling(['get'], () => users.exists('eve@example.com'))).toBe(true);
    expect(await cache.disabling(() => users.mightExist('eve@example.com'))).toBe(true);
    expect(users.runs).toBe(2);
  });

  it('method.set(...args) adds a member, as in cashews', async () => {
    const set = (users.exists as unknown as { set: (email: string) => Promise<void> }).set;
    await set('cy@example.com');
    expect(await users.mightExist('cy@example.com')).toBe(true);
    // The bits are a bitmap under bloom:<name>, sized for the capacity (9,593 bits for 1,000 at 1%).
    expect(await cache.exists('bloom:Bl:users')).toBe(true);
  });

  it(`the false positive rate at capacity (${CAPACITY} members) is within the configured ${RATE}`, async () => {
    const filter = bloomFilter(users.exists);
    for (let i = 0; i < CAPACITY; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => filter.add(`member-${i + j}@example.com`)));
    }
    // Every member is found (a Bloom filter has no false negatives)...
    const found = await Promise.all(
      Array.from({ length: CAPACITY }, (_, i) => users.mightExist(`member-${i}@example.com`)),
    );
    expect(found.every(Boolean)).toBe(true);
    // ...and of 10,000 strangers, the configured share passes: the filter is sized for an expected rate of at most
    // RATE, and 10,000 probes measure it to within 0.3 points (3 standard deviations).
    const PROBES = 10_000;
    let falsePositives = 0;
    for (let i = 0; i < PROBES; i += 250) {
      const answers = await Promise.all(
        Array.from({ length: 250 }, (_, j) => users.mightExist(`stranger-${i + j}@example.org`)),
      );
      falsePositives += answers.filter(Boolean).length;
    }
    const measured = falsePositives / PROBES;
    expect(measured).toBeLessThanOrEqual(RATE + 3 * Math.sqrt((RATE * (1 - RATE)) / PROBES));
    expect(users.runs).toBe(0);
    // The measured figure, for the README and the issue note.
    process.stdout.write(`@Bloom false positive rate at capacity ${CAPACITY}: ${measured} (configured ${RATE})\n`);
  });

  it('dual: the method runs once per member, then its true and false answers come from the filters', async () => {
    expect(await users.isPrime(7)).toBe(true);
    expect(await users.isPrime(8)).toBe(false);
    expect(users.runs).toBe(2);
    await backgroundSettled(); // the answers are learned after the callers have them
    expect(await users.isPrime(7)).toBe(true);
    expect(await users.isPrime(8)).toBe(false);
    expect(users.runs).toBe(2);
    expect(await users.isPrime(11)).toBe(true);
    expect(users.runs).toBe(3);
  });

  it('dual on a controller: the handler runs once per member', async () => {
    const server = app.getHttpServer();
    await request(server).get('/bl/even/4').expect(200, 'true');
    await backgroundSettled();
    await request(server).get('/bl/even/4').expect(200, 'true');
    await request(server).get('/bl/even/5').expect(200, 'false');
    await backgroundSettled();
    await request(server).get('/bl/even/5').expect(200, 'false');
    expect(app.get(BlController).runs).toBe(2);
  });
});

describe('@Bloom in safe mode on an unreachable Redis', () => {
  afterEach(() => closeApps());

  it('runs the method instead of answering from bits it cannot read; adding a member throws', async () => {
    const { app } = await startApp('redis://127.0.0.1:1/0?connect_timeout=200ms', [BlUsers]);
    const users = app.get(BlUsers);
    users.existing.add('dee@example.com');
    expect(await users.exists('dee@example.com')).toBe(true);
    expect(await users.mightExist('dee@example.com')).toBe(true);
    expect(users.runs).toBe(2);
    await expect(bloomFilter(users.exists).add('dee@example.com')).rejects.toThrow(/failed on incrBits/);
  });
});
