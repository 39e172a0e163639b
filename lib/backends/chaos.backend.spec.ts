import { jest } from '@jest/globals';
import { CacheBackendError, CashewsConfigError } from '../errors.js';
import { incrPrimitive } from '../primitives/incr.primitive.js';
import { ChaosBackend, type ChaosBackendOptions } from './chaos.backend.js';
import { MemoryBackend } from './memory.backend.js';

const memory = (): MemoryBackend => new MemoryBackend({ size: 10_000, checkInterval: 0 });

/** Outcome of each of `n` gets: 'ok', or the fault it met. */
async function outcomes(chaos: ChaosBackend, n: number): Promise<string[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => chaos.get(`k${i}`)));
  return settled.map((result) =>
    result.status === 'fulfilled' ? 'ok' : /lost/.test((result.reason as Error).message) ? 'drop' : 'fail',
  );
}

describe('ChaosBackend options', () => {
  it.each<[string, unknown, RegExp]>([
    ['not an object', 'often', /options must be an object/],
    ['an unknown option', { failures: 0.1 }, /unknown option "failures"; accepted: seed, failureRate/],
    ['a rate above 1', { failureRate: 2 }, /"failureRate" must be a share of commands from 0 to 1.*got 2/],
    ['a negative rate', { dropRate: -0.1 }, /"dropRate" must be a share/],
    ['a rate that is no number', { dropRate: '10%' }, /"dropRate" must be a share.*got "10%"/],
    ['rates adding up past 1', { failureRate: 0.6, dropRate: 0.5 }, /"failureRate" \+ "dropRate" must be at most 1/],
    ['a negative latency', { latency: -1 }, /"latency" must be a number of milliseconds.*or a \[min, max\] pair/],
    ['a reversed latency range', { latency: [50, 10] }, /"latency" must be.*got \[50, 10\]/],
    ['a latency string', { latency: '20ms' }, /"latency" must be.*got "20ms"/],
    ['a fractional seed', { seed: 1.5 }, /"seed" must be an integer/],
    ['commands that are no array', { commands: 'get' }, /"commands" must be an array of command names/],
    ['an unknown command', { commands: ['get', 'incrBy'] }, /unknown command "incrBy" in "commands"; accepted: .*get/],
  ])('refuse %s with a CashewsConfigError naming the option', (_label, options, message) => {
    const make = () => new ChaosBackend(memory(), options as ChaosBackendOptions);
    expect(make).toThrow(CashewsConfigError);
    expect(make).toThrow(message);
  });

  it('accept every documented form', () => {
    expect(() => new ChaosBackend(memory())).not.toThrow();
    expect(
      () =>
        new ChaosBackend(memory(), {
          seed: 42,
          failureRate: 0.5,
          dropRate: 0.5,
          latency: [0, 0],
          commands: ['get', 'run', 'incr', 'setLock'],
        }),
    ).not.toThrow();
    expect(() => new ChaosBackend(memory(), { latency: 0 })).not.toThrow();
  });
});

describe('ChaosBackend faults', () => {
  it('the same seed injects the same faults; another seed other ones', async () => {
    const options = { failureRate: 0.3, dropRate: 0.3 };
    const first = await outcomes(new ChaosBackend(memory(), { ...options, seed: 7 }), 200);
    const again = await outcomes(new ChaosBackend(memory(), { ...options, seed: 7 }), 200);
    const other = await outcomes(new ChaosBackend(memory(), { ...options, seed: 8 }), 200);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    // Each kind close to its share (fixed by the seed, so this cannot flake).
    for (const kind of ['fail', 'drop', 'ok']) {
      const n = first.filter((outcome) => outcome === kind).length;
      expect(n).toBeGreaterThan(40);
      expect(n).toBeLessThan(100);
    }
  });

  it('a failure rejects before the command runs; a lost reply after it ran', async () => {
    const inner = memory();
    const failing = new ChaosBackend(inner, { failureRate: 1 });
    await expect(failing.set('a', 'v')).rejects.toThrow(CacheBackendError);
    await expect(inner.exists('a')).resolves.toBe(false);
    expect(failing.counts('set')).toEqual({ ran: 0, failed: 1, dropped: 0 });

    const dropping = new ChaosBackend(inner, { dropRate: 1 });
    await expect(dropping.set('a', 'v')).rejects.toThrow(/reply to set lost \(the command ran\)/);
    await expect(inner.get('a')).resolves.toBe('v');
    await expect(dropping.run(incrPrimitive, 'n', 1, undefined)).rejects.toBeInstanceOf(CacheBackendError);
    await expect(inner.get('n')).resolves.toBe(1);
    expect(dropping.counts('set')).toEqual({ ran: 1, failed: 0, dropped: 1 });
    expect(dropping.counts()).toEqual({ ran: 2, failed: 0, dropped: 2 });
  });

  it('primitives count under their own name and under run; counts() counts each command once', async () => {
    const chaos = new ChaosBackend(memory(), { commands: ['incr'], failureRate: 1 });
    await expect(chaos.run(incrPrimitive, 'n', 1, undefined)).rejects.toThrow(/injected failure of incr/);
    await chaos.set('a', 'v');
    await expect(chaos.get('a')).resolves.toBe('v');
    expect(chaos.counts('incr')).toEqual({ ran: 0, failed: 1, dropped: 0 });
    expect(chaos.counts('run')).toEqual({ ran: 0, failed: 1, dropped: 0 });
    expect(chaos.counts('get')).toEqual({ ran: 1, failed: 0, dropped: 0 });
    expect(chaos.counts()).toEqual({ ran: 2, failed: 1, dropped: 0 });
  });

  it('a scan whose reply is lost yields its keys, then fails', async () => {
    const inner = memory();
    await inner.setMany([
      ['a', '1'],
      ['b', '2'],
    ]);
    const chaos = new ChaosBackend(inner, { dropRate: 1 });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const key of chaos.scan('*')) seen.push(key);
      })(),
    ).rejects.toThrow(/reply to scan lost/);
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('latency delays each command by the drawn time', async () => {
    jest.useFakeTimers();
    try {
      const chaos = new ChaosBackend(memory(), { latency: 100 });
      let answered = false;
      const reply = chaos.ping().then((answer) => {
        answered = true;
        return answer;
      });
      await jest.advanceTimersByTimeAsync(99);
      expect(answered).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(reply).resolves.toBe('PONG');
    } finally {
      jest.useRealTimers();
    }
  });

  it('offers no synchronous read, so every read meets the faults', () => {
    const chaos = new ChaosBackend(memory());
    expect('getSync' in chaos).toBe(false);
    expect('readLocal' in chaos).toBe(false);
    expect(chaos.kind).toBe('memory');
  });
});
