import { resolveCacheConfig } from './cache-url.js';
import { isCredentialName, redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it.each<[string, string]>([
    ['redis://h:6379/0', 'redis://h:6379/0'],
    ['redis://:pass@h', 'redis://:***@h'],
    ['redis://user:pass@h:6379/2', 'redis://user:***@h:6379/2'],
    // ':' and '@' in the password: the user info ends at the LAST '@', the user name at the FIRST ':'
    ['redis://:pa:ss@h', 'redis://:***@h'],
    ['redis://app:p@ss:w@rd@h:6379', 'redis://app:***@h:6379'],
    ['redis://:pa/ss?x#y@h/1', 'redis://:***@h/1'],
    // a lone user info may be a token
    ['redis://tok3n@h', 'redis://***@h'],
    // credential-like parameters, snake or camel, any case, percent-encoded names too
    ['mem://?secret=s3cr3t&size=10', 'mem://?secret=***&size=10'],
    [
      'redis://h?SECRET=a&password=b&auth_token=c&apiKey=d&pass=e',
      'redis://h?SECRET=***&password=***&auth_token=***&apiKey=***&pass=***',
    ],
    ['redis://h?s%65cret=x', 'redis://h?s%65cret=***'],
    // an '@' in a query value is not taken for the end of a user info
    ['redis://h/0?secret=a@b&command_timeout=1s', 'redis://h/0?secret=***&command_timeout=1s'],
    ['redis://u:p@h/0?secret=a@b', 'redis://u:***@h/0?secret=***'],
    ['redis+cluster://:pw@a:1,b:2?secret=z', 'redis+cluster://:***@a:1,b:2?secret=***'],
    ['not a url ?secret=x', 'not a url ?secret=***'],
    // A secret holding an unencoded '&': what follows it without '=' is taken for the rest of the secret.
    ['redis://h:6379/5?secret=Zq8&Lm3vR1xTT', 'redis://h:6379/5?secret=***&***'],
    // A secret whose '=' is encoded: the name holds the value.
    ['redis://h:6379/5?secret%3DK3yMaterial&size=1', 'redis://h:6379/5?***&size=1'],
    // A password holding '?' and '=': an '@' outside a credential's value ends a user info, as shown.
    ['redis://app:Pa55?w=rd9@h:6379/5', 'redis://app:***@h:6379/5'],
    ['redis://h/0?secret=a&x=b@c', 'redis://***@c'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('masks further parameters on request', () => {
    expect(redactUrl('redis://h?secrte=typo&size=1', (name) => name === 'secrte')).toBe('redis://h?secrte=***&size=1');
  });

  it('recognises credential-like names and leaves the cache parameters alone', () => {
    for (const name of ['secret', 'Password', 'db_pass', 'pwd', 'accessToken', 'api-key', 'AUTH', 'credentials'])
      expect(isCredentialName(name)).toBe(true);
    for (const name of ['size', 'check_interval', 'command_timeout', 'client_side', 'safe', 'enable'])
      expect(isCredentialName(name)).toBe(false);
  });
});

describe('resolveCacheConfig keeps credentials out of what it shows', () => {
  it('parses a password holding ":" and "@" and shows neither it nor the secret', () => {
    const config = resolveCacheConfig('redis://app:pa:ss@w@10.0.0.1:6380/3?secret=topsecret');
    expect(config).toMatchObject({ username: 'app', password: 'pa:ss@w', db: 3, secret: 'topsecret' });
    expect(config.nodes).toEqual([{ host: '10.0.0.1', port: 6380 }]);
    expect(config.displayUrl).toBe('redis://app:***@10.0.0.1:6380/3?secret=***');
  });

  it('redacts every prefix route', () => {
    const config = resolveCacheConfig('mem://', { prefixes: { 's:': 'redis://:hunter2@h/1', 't:': 'mem://' } });
    expect(config.prefixes?.map((route) => route.config.displayUrl)).toEqual(['redis://:***@h/1', 'mem://']);
  });

  it.each<[string, string, unknown]>([
    ['unknown parameter', 'redis://:hunter2@h?secrte=topsecret', undefined],
    ['bad value beside a secret', 'redis://:hunter2@h?secret=topsecret&command_timeout=soon', undefined],
    ['bad secret option', 'mem://', { secret: ['topsecret'] }],
    ['malformed URL', 'redis://:hunter2@h#frag?secret=topsecret', undefined],
    ['unknown scheme', 'rediz://:hunter2@h?secret=topsecret', undefined],
    ['bad port', 'redis://:hunter2@h:99999?secret=topsecret', undefined],
    ['bad database', 'redis://:hunter2@h/x?secret=topsecret', undefined],
    ['several hosts', 'redis://:hunter2@a,b?secret=topsecret', undefined],
    ['mem with user info', 'mem://:hunter2@?secret=topsecret', undefined],
    ['a secret holding an unencoded "&"', 'redis://h:6379/5?secret=hunter2&topsecret', undefined],
    ['a secret holding "&" and "="', 'redis://h:6379/5?secret=hunter2&topsecret=x', undefined],
    ['a secret with its "=" encoded', 'redis://h:6379/5?secret%3Dtopsecret', undefined],
    ['a password holding "?" and "="', 'redis://app:hunter2?topsecret=x@h:6379/5', undefined],
    // The query is valid here, so the parser goes on to read "app:hunter2" as the host and port.
    ['a password holding "?" and "=" then a known parameter', 'redis://app:hunter2?secret=x@h:6379/5', undefined],
    ['the same on Cluster', 'redis+cluster://app:hunter2?secret=x@h:7000', undefined],
  ])('%s: the error names neither the password nor the secret', (_label, url, options) => {
    let message = '';
    try {
      resolveCacheConfig(url, options as never);
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).not.toBe('');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('topsecret');
  });
});
