import { createHash } from 'node:crypto';
import { CashewsConfigError, KeyPlaceholderError } from '../errors.js';
import { registerKeyFormatter } from './formatters.js';
import {
  argumentRoot,
  compileKey,
  compileKeyFunction,
  compilePattern,
  LEFT_OUT,
  templateReads,
  type KeySpec,
} from './key-template.js';
import { parameterNames } from './param-names.js';
import { toRegExp } from './pattern.js';

const base = 'ItemsService:find';

function key(spec: Partial<KeySpec>, ...args: unknown[]): string {
  return compileKey({ base, params: ['id', 'color'], ...spec })({ args });
}

function configError(spec: Partial<KeySpec>): CashewsConfigError {
  try {
    compileKey({ base, params: ['id', 'color'], ...spec });
  } catch (error) {
    if (error instanceof CashewsConfigError) return error;
    throw error;
  }
  throw new Error('expected a CashewsConfigError');
}

describe('compileKey without a template', () => {
  it('joins base and rendered arguments with ":"', () => {
    expect(key({}, 42, 'red')).toBe('ItemsService:find:42:red');
    expect(key({})).toBe('ItemsService:find');
    expect(key({ prefix: 'v2' }, 42)).toBe('v2:ItemsService:find:42');
  });

  it('puts the version segment after the base (decorators pass a source fingerprint or `version`)', () => {
    expect(key({ version: '3f9a2c1b' }, 42, 'red')).toBe('ItemsService:find:v3f9a2c1b:42:red');
    expect(key({ prefix: 'p', version: '2' }, 42)).toBe('p:ItemsService:find:v2:42');
    // A template is the key exactly as written: no version is added.
    expect(compileKey({ base, params: ['id'], template: 'item:{id}', version: '2' })({ args: [1] })).toBe('item:1');
  });

  it('never lets one argument containing ":" collide with two arguments', () => {
    expect(key({}, 'a:b')).not.toBe(key({}, 'a', 'b'));
    expect(key({}, 'a:b')).toBe('ItemsService:find:a%3Ab');
  });

  it('keeps null, undefined and their string spellings apart', () => {
    const keys = [null, undefined, 'null', 'undefined'].map((value) => key({}, value));
    expect(new Set(keys).size).toBe(4);
    expect(key({}, 1, undefined)).not.toBe(key({}, 1));
  });

  it('gives objects with different key order the same key, and different objects different keys', () => {
    expect(key({}, { a: 1, b: [1, 2] })).toBe(key({}, { b: [1, 2], a: 1 }));
    expect(key({}, { a: 1 })).not.toBe(key({}, { a: 2 }));
  });

  it('escapes wildcard and glob characters from arguments', () => {
    const built = key({}, '*', '?[x]');
    expect(built).toBe('ItemsService:find:%2A:%3F%5Bx%5D');
    expect(built).not.toMatch(/[*?[\]]/);
  });

  it('never collides for two classes with the same method name', () => {
    const a = compileKey({ base: 'UsersService:find', params: ['id'] });
    const b = compileKey({ base: 'ItemsService:find', params: ['id'] });
    expect(a({ args: [1] })).not.toBe(b({ args: [1] }));
  });

  it('works end to end with parameterNames of a real method', () => {
    class ItemsService {
      async find(id: number, color = 'red'): Promise<string> {
        return `${id}${color}`;
      }
    }
    const compiled = compileKey({
      base: 'ItemsService:find',
      params: parameterNames(ItemsService.prototype.find),
      template: 'item:{color}:{id}',
    });
    expect(compiled({ args: [7, 'blue'] })).toBe('item:blue:7');
  });
});

describe('compileKey with a template', () => {
  it('substitutes parameters by name and keeps literal text', () => {
    expect(key({ template: 'item:{id}:{color}' }, 42, 'red')).toBe('item:42:red');
    expect(key({ template: 'item:{color}' }, 42, 'red')).toBe('item:red');
    expect(key({ template: 'static-key' }, 42, 'red')).toBe('static-key');
    expect(key({ template: '{id}' }, 42)).toBe('42');
  });

  it('prefixes the template', () => {
    expect(key({ template: 'item:{id}', prefix: 'tenant-a' }, 1)).toBe('tenant-a:item:1');
    expect(key({ template: '{id}', prefix: 'p' }, 1)).toBe('p:1');
  });

  it('substitutes arguments by index', () => {
    expect(key({ template: '{0}-{1}' }, 'a', 'b')).toBe('a-b');
    expect(key({ template: '{1.name}' }, 1, { name: 'n' })).toBe('n');
  });

  it('escapes substituted values so they cannot forge separators or wildcards', () => {
    expect(key({ template: 'item:{id}:{color}' }, 'a:b', 'c')).toBe('item:a%3Ab:c');
    expect(key({ template: 'item:{id}:{color}' }, 'a:b', 'c')).not.toBe(
      key({ template: 'item:{id}:{color}' }, 'a', 'b:c'),
    );
    expect(key({ template: 'item:{id}' }, '*?[]')).toBe('item:%2A%3F%5B%5D');
  });

  it('marks null and undefined values apart from their string spellings', () => {
    const keys = [null, undefined, 'null', 'undefined'].map((value) => key({ template: 'u:{id}' }, value));
    expect(new Set(keys).size).toBe(4);
  });

  it('renders object values stably', () => {
    expect(key({ template: 'q:{id}' }, { b: 1, a: 2 })).toBe(key({ template: 'q:{id}' }, { a: 2, b: 1 }));
  });

  it('reads nested paths through own properties, arrays and Maps', () => {
    const user = { id: 5, profile: { tags: ['x', 'y'] }, prefs: new Map([['lang', 'de']]) };
    const params = ['user'];
    expect(compileKey({ base, params, template: 'u:{user.id}' })({ args: [user] })).toBe('u:5');
    expect(compileKey({ base, params, template: '{user.profile.tags.1}' })({ args: [user] })).toBe('y');
    expect(compileKey({ base, params, template: '{user.prefs.lang}' })({ args: [user] })).toBe('de');
    expect(compileKey({ base, params, template: '{user.missing.deep}' })({ args: [user] })).toBe('%undefined');
    expect(compileKey({ base, params, template: '{user.id}' })({ args: [null] })).toBe('%undefined');
  });

  it('does not read inherited properties', () => {
    class User {
      constructor(readonly id: number) {}
      get secret(): string {
        return 'inherited';
      }
    }
    const compiled = compileKey({ base, params: ['user'], template: '{user.id}:{user.secret}:{user.toString}' });
    expect(compiled({ args: [new User(1)] })).toBe('1:%undefined:%undefined');
  });

  it('treats an own "__proto__" key of a runtime value as data and never reads the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"role": "admin"}}') as object;
    const compiled = compileKey({ base, params: ['user'], template: '{user.role}' });
    expect(compiled({ args: [parsed] })).toBe('%undefined');
    const polluted = Object.create({ role: 'inherited' }) as object;
    expect(compiled({ args: [polluted] })).toBe('%undefined');
  });

  it('strict: a placeholder rendering undefined throws KeyPlaceholderError unless marked optional with "?"', () => {
    const spec = { base, params: ['user', 'page'], strict: true };
    const strict = compileKey({ ...spec, template: 'export:{user.id}:{page?}' });
    expect(strict({ args: [{ id: 7 }] })).toBe('export:7:%undefined');
    expect(() => strict({ args: [{}] })).toThrow(KeyPlaceholderError);
    const error = (() => {
      try {
        strict({ args: [{}, 2] });
      } catch (caught) {
        return caught as KeyPlaceholderError;
      }
    })();
    expect(error).toMatchObject({
      code: 'CASHEWS_KEY_PLACEHOLDER',
      template: 'export:{user.id}:{page?}',
      placeholder: 'user.id',
    });
    expect(error?.message).toMatch(/\{user\.id\?\}/);
    // `null` is a value; formatters see the raw value first.
    expect(strict({ args: [{ id: null }, 1] })).toBe('export:%null:1');
    expect(() => compileKey({ ...spec, template: '{user.id:hash}' })({ args: [{}] })).toThrow(KeyPlaceholderError);
    expect(compileKey({ ...spec, template: '{user.id?:hash}' })({ args: [{}] })).toBe('%25undefined');
    // Without strict (tags, patterns) undefined renders its marker, as before.
    expect(compileKey({ base, params: ['user'], template: 'export:{user.id}' })({ args: [{}] })).toBe(
      'export:%undefined',
    );
  });

  it('resolves a rest parameter to the array of remaining arguments', () => {
    const compiled = compileKey({ base, params: ['first', '...rest'], template: '{first}:{rest}:{rest:len}:{2}' });
    expect(compiled({ args: ['a', 'b', 'c'] })).toBe('a:%o%5B"b","c"%5D:2:c');
  });

  it('applies built-in formatters and escapes their output', () => {
    const sha1 = createHash('sha1').update('find me').digest('hex');
    expect(key({ template: 'q:{id:hash}' }, 'find me')).toBe(`q:${sha1}`);
    expect(key({ template: '{id:lower}' }, 'A:B')).toBe('a%3Ab');
    expect(key({ template: '{id:upper}' }, 'abc')).toBe('ABC');
    expect(key({ template: '{id:len}' }, [1, 2, 3])).toBe('3');
    expect(key({ template: '{id.name:upper}' }, { name: 'x' })).toBe('X');
  });

  it('chains formatters left to right', () => {
    const sha1 = createHash('sha1').update('abc').digest('hex');
    expect(key({ template: '{id:lower:hash}' }, 'ABC')).toBe(sha1);
  });

  it('applies custom formatters registered before compilation and escapes their output', () => {
    registerKeyFormatter('initials', (value) =>
      String(value)
        .split(' ')
        .map((word) => word[0])
        .join('*'),
    );
    expect(key({ template: 'n:{id:initials}' }, 'John Ronald Tolkien')).toBe('n:J%2AR%2AT');
  });

  it('resolves extra roots (controller @Param names, request data) at call time', () => {
    const compiled = compileKey({
      base: 'ItemsController:get',
      params: ['itemId'],
      template: 'item:{id}:{user.id}:{itemId}',
      extraRoots: {
        id: (source) => (source.req as { params: Record<string, string> }).params.id,
        user: (source) => (source.req as { user: unknown }).user,
      },
    });
    const req = { params: { id: 'p:1' }, user: { id: 9 } };
    expect(compiled({ args: [1], req })).toBe('item:p%3A1:9:1');
  });

  it('lets parameter names win over extra roots of the same name', () => {
    const compiled = compileKey({ base, params: ['id'], template: '{id}', extraRoots: { id: () => 'extra' } });
    expect(compiled({ args: ['param'] })).toBe('param');
  });

  it('reads the request with allowRequest', () => {
    const compiled = compileKey({
      base: 'ItemsController:get',
      params: [],
      template: 'item:{req.params.id}:{req.user.id}',
      allowRequest: true,
    });
    expect(compiled({ args: [], req: { params: { id: '*' }, user: { id: 3 } } })).toBe('item:%2A:3');
    expect(compiled({ args: [] })).toBe('item:%undefined:%undefined');
  });
});

describe('compileKey configuration errors', () => {
  it('names the placeholder, the method and the accepted names for an unknown placeholder', () => {
    const error = configError({ template: 'item:{idd}', extraRoots: { tenant: () => 't' } });
    expect(error.message).toContain('{idd}');
    expect(error.message).toContain(base);
    expect(error.message).toMatch(/accepted names: id, color, tenant, 0\.\.1/);
  });

  it('refuses req placeholders without allowRequest', () => {
    expect(configError({ template: '{req.params.id}' }).message).toMatch(/\{req\.params\.id\}.*request/);
    expect(() => key({ template: '{req}', allowRequest: true })).toThrow(/whole request/);
  });

  it('refuses an unclosed or stray brace and an empty placeholder', () => {
    expect(configError({ template: 'item:{id' }).message).toMatch(/unclosed/);
    expect(configError({ template: 'item:{id:{color}' }).message).toMatch(/unclosed/);
    expect(configError({ template: 'item:id}' }).message).toMatch(/without a matching/);
    expect(() => key({ template: 'item:{}' })).toThrow(CashewsConfigError);
  });

  it('refuses an unknown formatter, naming it', () => {
    expect(configError({ template: '{id:nope}' }).message).toMatch(/unknown formatter "nope".*hash, lower, upper, len/);
  });

  it('refuses a literal "*" in a key template or prefix', () => {
    expect(configError({ template: 'item:*' }).message).toMatch(/wildcard/);
    expect(() => key({ prefix: 'p*' })).toThrow(CashewsConfigError);
  });

  it('refuses paths through __proto__, constructor or prototype', () => {
    for (const template of ['{id.__proto__}', '{id.constructor.name}', '{id.prototype}', '{__proto__}']) {
      expect(configError({ template }).message).toMatch(/prototype/);
    }
  });

  it('refuses destructured parameters by name but allows them by index', () => {
    const params = ['a', '__1'];
    expect(() => compileKey({ base, params, template: '{__1}' })).toThrow(/by index \(\{1\}\)/);
    expect(compileKey({ base, params, template: '{1.x}' })({ args: [0, { x: 'v' }] })).toBe('v');
  });

  it('refuses an index beyond the parameters unless there is a rest parameter', () => {
    expect(configError({ template: '{2}' }).message).toMatch(/argument 2.*2 parameter/);
    expect(() => compileKey({ base, params: ['...all'], template: '{5}' })).not.toThrow();
  });

  it('refuses a malformed path segment', () => {
    expect(configError({ template: '{id..x}' }).message).toMatch(/invalid path segment/);
    expect(configError({ template: '{id.a-b}' }).message).toMatch(/invalid path segment/);
  });

  it('throws at compile time, never when building a key', () => {
    const compiled = compileKey({ base, params: ['x'], template: 'k:{x.a.b:hash}' });
    for (const value of [undefined, null, 1, 'x', {}, { a: null }, { a: { b: [1] } }]) {
      expect(() => compiled({ args: [value] })).not.toThrow();
    }
  });
});

describe('compilePattern', () => {
  it('keeps a literal "*" as the wildcard and escapes substituted values', () => {
    const pattern = compilePattern({ base, params: ['id'], template: 'user:{id}:*' });
    expect(pattern({ args: [42] })).toBe('user:42:*');
    expect(pattern({ args: ['*'] })).toBe('user:%2A:*');
  });

  it('matches keys built from the same value and cannot be widened by a value', () => {
    const keyOf = compileKey({ base, params: ['id', 'page'], template: 'user:{id}:{page}' });
    const patternOf = compilePattern({ base, params: ['id'], template: 'user:{id}:*' });
    const own = toRegExp(patternOf({ args: ['a:b'] }));
    expect(own.test(keyOf({ args: ['a:b', 1] }))).toBe(true);
    expect(own.test(keyOf({ args: ['a', 'b'] }))).toBe(false);
    const widened = toRegExp(patternOf({ args: ['*'] }));
    expect(widened.test(keyOf({ args: ['someone-else', 1] }))).toBe(false);
  });

  it('still validates placeholders and prefixes', () => {
    expect(() => compilePattern({ base, params: ['id'], template: '{nope}:*' })).toThrow(CashewsConfigError);
    expect(compilePattern({ base, params: ['id'], template: '*', prefix: 'p' })({ args: [1] })).toBe('p:*');
  });

  it('is the exact default key without a template', () => {
    expect(compilePattern({ base, params: ['id'] })({ args: ['*'] })).toBe('ItemsService:find:%2A');
  });
});

describe('templateReads: the arguments a template reads, for adapters to check', () => {
  it('by parameter name, position, rest parameter and marked extra root', () => {
    const extraRoots = { id: argumentRoot(1, (source) => source.args[1]), lang: () => 'en' };
    const compiled = compileKey({
      base,
      params: ['user', 'otherId', '...tags'],
      template: 'f:{user.id}:{0}:{id}:{tags:len}:{lang}:{@tenant}',
      extraRoots,
    });
    expect(
      templateReads(compiled).map(({ index, rest, name, placeholder }) => [index, rest, name, placeholder]),
    ).toEqual([
      [0, undefined, 'user', 'user.id'],
      [0, undefined, '0', '0'],
      [1, undefined, 'id', 'id'],
      [2, true, 'tags', 'tags:len'],
    ]);
    expect(templateReads(compiled)[0].template).toBe('f:{user.id}:{0}:{id}:{tags:len}:{lang}:{@tenant}');
  });

  it('reads nothing without a template, with a key function, or a template of literals and requests', () => {
    expect(templateReads(compileKey({ base, params: ['id'] }))).toEqual([]);
    expect(templateReads(compileKeyFunction({ base }, ([id]) => String(id)))).toEqual([]);
    expect(templateReads(compileKey({ base, params: ['id'], template: 'x:{req.ip}', allowRequest: true }))).toEqual([]);
  });
});

describe('LEFT_OUT: an argument a default key leaves out', () => {
  it('renders nothing, and the other arguments keep their positions for skipArgs', () => {
    expect(key({}, LEFT_OUT, 42, LEFT_OUT)).toBe('ItemsService:find:42');
    expect(key({}, LEFT_OUT, 42)).toBe(key({}, 42));
    const skipping = compileKey({ base, params: ['ctx', 'id', 'color'], skipArgs: [2] });
    expect(skipping({ args: [LEFT_OUT, 42, 'red'] })).toBe('ItemsService:find:42');
  });
});
