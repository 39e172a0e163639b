/**
 * URL grammar, option validation and durations. No Redis needed: invalid configurations must be rejected
 * before any connection is attempted (the Redis URLs below point at port 1, where nothing listens).
 */
import { readFileSync } from 'node:fs';
import { CacheService, CashewsConfigError, createCache } from '../lib/index.js';
import { parseDuration } from '../lib/duration.js';
import { resolveCacheConfig } from '../lib/config/cache-url.js';

type Options = NonNullable<Parameters<typeof createCache>[1]>;

const NOWHERE = 'redis://127.0.0.1:1';

/** Awaits a createCache call that must fail; closes the instance if it unexpectedly succeeds. */
async function configFailure(promise: Promise<CacheService>): Promise<unknown> {
  return promise.then(
    async (cache) => {
      await cache.close();
      return new Error('createCache resolved but a CashewsConfigError was expected');
    },
    (error: unknown) => error,
  );
}

function expectConfigError(error: unknown, mentions: RegExp[]): void {
  expect(error).toBeInstanceOf(CashewsConfigError);
  expect(error).toMatchObject({ code: 'CASHEWS_CONFIG' });
  const message = error instanceof Error ? error.message : '';
  for (const pattern of mentions) expect(message).toMatch(pattern);
}

const DURATION_FORMS = /'?\d+(ms|s|m|h|d)'?/;

describe('createCache URL validation', () => {
  it.each<[string, string, RegExp[]]>([
    ['unknown scheme', 'memcached://127.0.0.1:11211', [/memcached/, /mem:\/\//, /redis:\/\//]],
    ['not a URL', 'just some text', [/mem|redis/]],
    ['empty string', '', [/mem|redis/]],
    ['non-numeric port', 'redis://127.0.0.1:notaport', [/port|url/i]],
    ['unknown parameter (mem)', 'mem://?bogus=1', [/bogus/, /size/]],
    ['unknown parameter (redis)', `${NOWHERE}?colour=blue`, [/colour/, /command_timeout|commandTimeout/]],
    ['size not a number', 'mem://?size=abc', [/size/, /integer/]],
    ['size zero', 'mem://?size=0', [/size/]],
    ['size negative', 'mem://?size=-5', [/size/]],
    ['size fractional', 'mem://?size=1.5', [/size/]],
    ['check_interval not a duration', 'mem://?check_interval=fast', [/check_interval|checkInterval/, DURATION_FORMS]],
    ['checkInterval camelCase not a duration', 'mem://?checkInterval=1x', [/check_interval|checkInterval/]],
    [
      'command_timeout not a duration',
      `${NOWHERE}?command_timeout=soon`,
      [/command_timeout|commandTimeout/, DURATION_FORMS],
    ],
    ['command_timeout negative', `${NOWHERE}?command_timeout=-5`, [/command_timeout|commandTimeout/]],
    ['connect_timeout not a duration', `${NOWHERE}?connect_timeout=2 s`, [/connect_timeout|connectTimeout/]],
    // In a URL every value is a string: a bare number would be ms here and seconds in cashews, so it is refused.
    ['command_timeout without a unit', `${NOWHERE}?command_timeout=500`, [/command_timeout/, /unit/, DURATION_FORMS]],
    ['check_interval without a unit', 'mem://?check_interval=1500', [/check_interval/, /unit/, DURATION_FORMS]],
    // Timers wait for these: Node fires a delay longer than 2^31 - 1 ms after 1 ms (an interval would spin).
    [
      'check_interval longer than a timer waits',
      'mem://?check_interval=30d',
      [/check_interval/, /at most 2147483647 ms/],
    ],
    ['command_timeout longer than a timer waits', `${NOWHERE}?command_timeout=25d`, [/command_timeout/, /2147483647/]],
    ['connect_timeout longer than a timer waits', `${NOWHERE}?connect_timeout=30d`, [/connect_timeout/, /2147483647/]],
    ['max_retries not an integer', `${NOWHERE}?max_retries=x`, [/max_retries|maxRetries/, /integer/]],
    ['maxRetries negative', `${NOWHERE}?maxRetries=-1`, [/max_retries|maxRetries/]],
    ['safe not a boolean', `${NOWHERE}?safe=maybe`, [/safe/, /true|1/]],
    ['enable not a boolean', 'mem://?enable=perhaps', [/enable/, /true|1/]],
    ['empty secret', 'mem://?secret=', [/secret/]],
    ['redis-only parameter on mem://', 'mem://?command_timeout=1s', [/command_timeout|commandTimeout/]],
    ['mem-only parameter on redis://', `${NOWHERE}?size=10`, [/size/]],
    ['cluster without hosts', 'redis+cluster://', [/cluster|host/i]],
    ['several hosts on redis://', 'redis://127.0.0.1:1,127.0.0.1:2', [/redis\+cluster/, /redis\+sentinel/]],
    ['sentinel without master name', 'redis+sentinel://127.0.0.1:1', [/master name/, /redis\+sentinel:\/\/10/]],
    ['sentinel without master name (slash)', 'redis+sentinel://127.0.0.1:1/', [/master name/]],
    ['sentinel without hosts', 'redis+sentinel:///mymaster', [/Sentinels' host:port/]],
    ['sentinel empty host in the list', 'redis+sentinel://127.0.0.1:1,/mymaster', [/host:port/]],
    ['sentinel port out of range', 'redis+sentinel://127.0.0.1:99999/mymaster', [/port "99999"/, /1-65535/]],
    ['sentinel port not a number', 'redis+sentinel://127.0.0.1:abc/mymaster', [/port "abc"/, /1-65535/]],
    ['sentinel database not a number', 'redis+sentinel://127.0.0.1:1/mymaster/x', [/database "x"/]],
    ['sentinel path too long', 'redis+sentinel://127.0.0.1:1/mymaster/0/1', [/<master name>\/<db>/]],
    ['mem-only parameter on sentinel', 'redis+sentinel://127.0.0.1:1/m?size=10', [/size/, /redis\+sentinel/]],
    ['client_side on sentinel', 'redis+sentinel://127.0.0.1:1/m?client_side=1', [/client_side/, /redis:\/\//]],
    ['client_side_size on sentinel', 'redis+sentinel://127.0.0.1:1/m?client_side_size=5', [/client_side_size/]],
    ['sentinel_password on redis://', `${NOWHERE}?sentinel_password=x`, [/sentinel_password/, /redis\+sentinel/]],
    ['wait_replicas on cluster', 'redis+cluster://127.0.0.1:1?wait_replicas=1', [/wait_replicas/, /redis\+sentinel/]],
    ['wait_replicas not an integer', `${NOWHERE}?wait_replicas=all`, [/wait_replicas/, /integer/]],
  ])('%s: %j', async (_label, url, mentions) => {
    expectConfigError(await configFailure(createCache(url)), mentions);
  });
});

describe('redis+sentinel:// URLs', () => {
  it('parses the Sentinels (default port 26379), the master name, the database and the Sentinel password', () => {
    const config = resolveCacheConfig(
      'redis+sentinel://app:s3cret@10.0.0.1,10.0.0.2:26380/my%2Dmaster/3?sentinel_password=hush&wait_replicas=1',
    );
    expect(config).toMatchObject({
      scheme: 'redis+sentinel',
      nodes: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      sentinelName: 'my-master',
      db: 3,
      username: 'app',
      password: 's3cret',
      sentinelPassword: 'hush',
      waitReplicas: 1,
    });
    expect(config.displayUrl).toBe(
      'redis+sentinel://app:***@10.0.0.1,10.0.0.2:26380/my%2Dmaster/3?sentinel_password=***&wait_replicas=1',
    );
  });

  it('defaults to database 0 and no waiting for replicas', () => {
    expect(resolveCacheConfig('redis+sentinel://127.0.0.1:26379/mymaster')).toMatchObject({ db: 0, waitReplicas: 0 });
  });

  it('never shows a wrong sentinel_password in the error', () => {
    expect(() => resolveCacheConfig(NOWHERE, { sentinelPassword: 'leak-me' })).toThrow(CashewsConfigError);
    expect(() => resolveCacheConfig('redis+sentinel://h/m', { sentinelPassword: 42 as unknown as string })).toThrow(
      /not shown/,
    );
  });
});

describe('createCache options validation', () => {
  it.each<[string, string, Options, RegExp[]]>([
    ['size not a number', 'mem://', { size: 'big' as unknown as number }, [/size/]],
    ['size negative', 'mem://', { size: -1 }, [/size/]],
    ['checkInterval bad string', 'mem://', { checkInterval: 'soon' }, [/check_interval|checkInterval/, DURATION_FORMS]],
    ['checkInterval NaN', 'mem://', { checkInterval: NaN }, [/check_interval|checkInterval/]],
    ['commandTimeout bad string', NOWHERE, { commandTimeout: '1 minute' }, [/command_timeout|commandTimeout/]],
    ['commandTimeout string without a unit', NOWHERE, { commandTimeout: '80' }, [/commandTimeout/, /unit/]],
    ['connectTimeout negative', NOWHERE, { connectTimeout: -1 }, [/connect_timeout|connectTimeout/]],
    ['maxRetries fractional', NOWHERE, { maxRetries: 1.5 }, [/max_retries|maxRetries/]],
    ['safe not a boolean', 'mem://', { safe: 'yes please' as unknown as boolean }, [/safe/]],
    ['enable not a boolean', 'mem://', { enable: 2 as unknown as boolean }, [/enable/]],
    ['secret not a string', 'mem://', { secret: 42 as unknown as string }, [/secret/]],
    ['unknown option', 'mem://', { bogus: 1 } as unknown as Options, [/bogus/]],
  ])('%s', async (_label, url, options, mentions) => {
    expectConfigError(await configFailure(createCache(url, options)), mentions);
  });

  it.each<[string, Options]>([
    ['enable: the string "false"', { enable: 'false' as unknown as boolean }],
    ['safe: the number 0', { safe: 0 as unknown as boolean }],
    ['clientSide: the string "true"', { clientSide: 'true' as unknown as boolean }],
  ])('a boolean option given as %s asks for true or false, not for URL spellings', (_label, options) => {
    let caught: unknown;
    try {
      resolveCacheConfig(NOWHERE, options);
    } catch (error) {
      caught = error;
    }
    expectConfigError(caught, [/"(enable|safe|clientSide)"/, /a boolean, true or false/, /URL/]);
    // The URL spellings are what the options object refuses: listing them as accepted there contradicted the refusal.
    expect((caught as Error).message).not.toMatch(/Accepted: 1\/0/);
  });

  it('a boolean URL parameter still lists its URL spellings', () => {
    expect(() => resolveCacheConfig(`${NOWHERE}?safe=maybe`)).toThrow(
      /Invalid value "maybe" for cache parameter "safe"\. Accepted: 1\/0, true\/false, yes\/no, on\/off\./,
    );
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'an option',
      () => resolveCacheConfig('mem://', { tll: '1m' } as Options),
      /"tll" in options\. .*Did you mean "ttl"\?/,
    ],
    [
      'a URL parameter, in its own spelling',
      () => resolveCacheConfig('redis://localhost?command_timout=1s'),
      /"command_timout" in URL .*Did you mean "command_timeout"\?/,
    ],
    ['a name in another case', () => resolveCacheConfig('mem://?CheckInterval=1s'), /Did you mean "checkInterval"\?/],
  ])('an unknown name close to a known one suggests it: %s', (_label, resolve, message) => {
    expect(resolve).toThrow(message);
  });

  it('the README shows the message a misspelt URL parameter gets', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const shown = /^CashewsConfigError: Unknown cache parameter "command_timout".*$/m.exec(readme)?.[0];
    let actual: unknown;
    try {
      resolveCacheConfig('redis://localhost?command_timout=1s');
    } catch (error) {
      actual = error;
    }
    expect(shown).toBe(`CashewsConfigError: ${(actual as Error).message}`);
  });

  it('a masked URL parameter name gets no suggestion either', () => {
    // `ecret` after an unencoded '&' in a secret could be its tail: neither it nor a name close to it is shown.
    expect(() => resolveCacheConfig('mem://?secret=a&ecret=b')).toThrow(/name not shown/);
    expect(() => resolveCacheConfig('mem://?secret=a&ecret=b')).not.toThrow(/Did you mean/);
  });

  it('the option overrides a valid URL parameter and is still validated', async () => {
    expectConfigError(await configFailure(createCache('mem://?size=10', { size: 0 })), [/size/]);
  });
});

describe('createCache accepted configurations', () => {
  it.each<[string, string, Options | undefined]>([
    ['default', 'mem://', undefined],
    ['snake_case params', 'mem://?size=1000&check_interval=1s', undefined],
    ['camelCase params', 'mem://?size=1000&checkInterval=1s', undefined],
    ['boolean forms', 'mem://?safe=1&enable=true', undefined],
    ['duration as milliseconds in options', 'mem://', { checkInterval: 1500 }],
    ['zero needs no unit', 'mem://?check_interval=0', undefined],
    ['secret in URL', 'mem://?secret=abc', undefined],
    ['options only', 'mem://', { size: 5, checkInterval: '1h30m', secret: 's', safe: false, name: 'named' }],
  ])('%s: %j', async (_label, url, options) => {
    const cache = await createCache(url, options);
    try {
      await expect(cache.set('k', 'v')).resolves.toBe(true);
      await expect(cache.get('k')).resolves.toBe('v');
    } finally {
      await cache.close();
    }
  });

  it('createCache() without arguments is an in-memory cache', async () => {
    const cache = await createCache();
    try {
      expect(cache.backend.kind).toBe('memory');
    } finally {
      await cache.close();
    }
  });

  it('size bounds the memory cache', async () => {
    const cache = await createCache('mem://?size=3');
    try {
      for (let i = 0; i < 10; i++) await cache.set(`k${i}`, i);
      const present = await Promise.all(Array.from({ length: 10 }, (_, i) => cache.exists(`k${i}`)));
      expect(present.filter(Boolean).length).toBeLessThanOrEqual(3);
      await expect(cache.get('k9')).resolves.toBe(9);
    } finally {
      await cache.close();
    }
  });

  it('a config error message never leaks the password', async () => {
    const error = await configFailure(createCache('redis://user:hunter2@127.0.0.1:1?bogus=1'));
    expectConfigError(error, [/bogus/]);
    expect(error instanceof Error ? error.message : '').not.toContain('hunter2');
  });
});

describe('parseDuration', () => {
  it("refuses '80' (80 ms here, 80 s in cashews) and names the units and the number form", () => {
    let caught: unknown;
    try {
      parseDuration('80', 'ttl');
    } catch (error) {
      caught = error;
    }
    expectConfigError(caught, [/"ttl"/, /"80" has no unit/, /'80ms'/, /'80s'/, /ms, s, m, h, d/, /number 80/]);
  });

  it.each<[unknown, number]>([
    [0, 0],
    [1500, 1500],
    [1.4, 1],
    ['0', 0],
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['3h', 10_800_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    [' 10s ', 10_000],
  ])('%j = %d ms', (input, expected) => {
    expect(parseDuration(input, 'ttl')).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['empty string', ''],
    ['words', 'soon'],
    ['unknown unit', '10x'],
    ['space inside', '1h 30m'],
    ['space before unit', '5 s'],
    ['negative number', -1],
    ['negative string', '-1s'],
    ['exponent', '1e3'],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['null', null],
    ['undefined', undefined],
    ['boolean', true],
    ['object', {}],
    ['unit only', 'ms'],
    ['no unit', '1500'],
    ['no unit, fractional', '1.5'],
  ])('rejects %s', (_label, input) => {
    let caught: unknown;
    try {
      parseDuration(input, 'my_option');
    } catch (error) {
      caught = error;
    }
    expectConfigError(caught, [/my_option/, /1h30m/, /500ms/]);
  });
});

describe('values JSON cannot show', () => {
  it.each<[string, unknown, RegExp]>([
    ['Infinity', Infinity, /: Infinity\. Accepted: a number of milliseconds, finite and not negative/],
    ['-Infinity', -Infinity, /: -Infinity\. Accepted/],
    ['NaN', NaN, /: NaN\. Accepted/],
    ['a negative number', -5, /: -5\. Accepted/],
  ])('parseDuration names %s instead of null', (_label, value, message) => {
    expect(() => parseDuration(value, 'ttl')).toThrow(message);
  });

  it("set(k, v, { ttl: Infinity }) names Infinity and the accepted forms (it said null: JSON's text for it)", async () => {
    const cache = await createCache('mem://');
    try {
      await expect(cache.set('k', 1, { ttl: Infinity })).rejects.toThrow(
        /Invalid duration for "ttl": Infinity\. Accepted: .*'10s'.*\{ ttl: 'never' \}/,
      );
    } finally {
      await cache.close();
    }
  });

  it('an option of the options object shows Infinity and NaN as such', () => {
    expect(() => resolveCacheConfig('mem://', { checkInterval: Infinity })).toThrow(
      /Invalid value Infinity for cache parameter "checkInterval"/,
    );
    expect(() => resolveCacheConfig('mem://', { size: NaN })).toThrow(/Invalid value NaN for cache parameter "size"/);
  });
});

describe('parameters with no effect', () => {
  it('reports max_retries, given in the URL or the options, instead of accepting it silently', () => {
    const fromUrl = resolveCacheConfig(`${NOWHERE}?max_retries=3`);
    expect(fromUrl.notices).toEqual([expect.stringMatching(/max_retries.*no effect/)]);
    const fromOptions = resolveCacheConfig(NOWHERE, { maxRetries: 2 });
    expect(fromOptions.notices).toEqual([expect.stringMatching(/max_retries.*no effect/)]);
    expect(resolveCacheConfig(NOWHERE).notices).toEqual([]);
  });
});
