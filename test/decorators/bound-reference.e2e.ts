/**
 * A decorated provider method taken as a reference before the explorer decorated its instance (a class field
 * `readonly load = this.find.bind(this)`, a DataLoader's batch function made in the constructor, a reference taken in a
 * lazily loaded provider's constructor) is bound to the guard on the prototype. It must run decorated once the
 * instance is, not silently undecorated.
 */
import { Injectable, Module } from '@nestjs/common';
import { LazyModuleLoader } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { Cache, CashewsModule, RateLimit, RateLimitError } from '../../lib/index.js';
import { logged } from '../support/logged.js';

@Injectable()
class Catalog {
  runs = 0;
  /** Bound while the constructor runs: the prototype's guard, before the explorer wrapped `find` on the instance. */
  readonly bound = this.find.bind(this);
  readonly viaLoader: (id: number) => Promise<string>;

  constructor() {
    this.viaLoader = (id) => this.find(id); // a closure: reads `this.find` at call time, decorated
  }

  @Cache({ ttl: '1m', key: 'bound-ref:{id}' })
  async find(id: number): Promise<string> {
    this.runs++;
    return `item ${id}`;
  }
}

@Injectable()
class Limited {
  readonly bound = this.ping.bind(this);

  @RateLimit({ limit: 2, period: '1m', key: 'bound-ref:limit' })
  async ping(): Promise<string> {
    return 'pong';
  }
}

@Injectable()
class Base {
  baseRuns = 0;

  @Cache({ ttl: '1m', key: 'bound-ref:base:{id}' })
  async find(id: number): Promise<string> {
    this.baseRuns++;
    return `base ${id}`;
  }
}

/** Overrides a decorated method and calls the base's through `super`: the base's guard on a decorated instance. */
@Injectable()
class Derived extends Base {
  derivedRuns = 0;

  @Cache({ ttl: '1m', key: 'bound-ref:derived:{id}' })
  override async find(id: number): Promise<string> {
    this.derivedRuns++;
    return `derived ${await super.find(id)}`;
  }
}

/** A method decorator of another library (a tracing `@Span`) that wraps the method and copies its metadata. */
const Copying = (): MethodDecorator => (_target, _key, descriptor: PropertyDescriptor) => {
  const inner = descriptor.value as (...args: unknown[]) => unknown;
  const outer = function (this: unknown, ...args: unknown[]) {
    return inner.apply(this, args);
  };
  for (const key of Reflect.getOwnMetadataKeys(inner)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, inner), outer);
  }
  descriptor.value = outer;
};

/** Runs `test` against an initialized testing module on mem:// holding `providers`, closed afterwards. */
async function withApp(
  providers: Array<new (...args: never[]) => unknown>,
  test: (moduleRef: TestingModule) => Promise<void>,
): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot('mem://')],
    providers,
  }).compile();
  await moduleRef.init();
  try {
    await test(moduleRef);
  } finally {
    await moduleRef.close();
  }
}

describe('a decorated method referenced before its instance was decorated', () => {
  it('runs decorated through a reference bound in a field initializer, with no warning', async () => {
    await withApp([Catalog], async (moduleRef) => {
      const catalog = moduleRef.get(Catalog);
      const lines = await logged(async () => {
        expect(await catalog.bound(1)).toBe('item 1');
        expect(await catalog.bound(1)).toBe('item 1');
        expect(await catalog.find(1)).toBe('item 1');
        expect(await catalog.viaLoader(1)).toBe('item 1');
      });
      expect(catalog.runs).toBe(1);
      expect(lines).toEqual([]);
    });
  });

  it('counts a rate limit through the bound reference too (no bypass)', async () => {
    await withApp([Limited], async (moduleRef) => {
      const limited = moduleRef.get(Limited);
      const results = await Promise.allSettled([limited.bound(), limited.bound(), limited.bound(), limited.ping()]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
    });
  });

  it("leaves a base method reached through super as it was (the override's decorators apply, no recursion)", async () => {
    await withApp([Derived], async (moduleRef) => {
      const derived = moduleRef.get(Derived);
      expect(await derived.find(2)).toBe('derived base 2');
      expect(await derived.find(2)).toBe('derived base 2');
      expect(derived.derivedRuns).toBe(1);
      expect(derived.baseRuns).toBe(1);
    });
  });

  it('runs decorated through a reference taken in the constructor of a lazily loaded provider', async () => {
    @Injectable()
    class LazyCatalog {
      runs = 0;
      readonly bound = this.find.bind(this);

      @Cache({ ttl: '1m', key: 'bound-ref:lazy:{id}' })
      async find(id: number): Promise<string> {
        this.runs++;
        return `lazy ${id}`;
      }
    }
    @Module({ providers: [LazyCatalog] })
    class LazyCatalogModule {}

    await withApp([], async (moduleRef) => {
      const loaded = await moduleRef.get(LazyModuleLoader).load(() => LazyCatalogModule);
      const catalog = loaded.get(LazyCatalog);
      const lines = await logged(async () => {
        await catalog.bound(3);
        await catalog.bound(3);
      });
      expect(catalog.runs).toBe(1);
      expect(lines).toEqual([]);
    });
  });

  it('still warns once for an instance Nest did not create', async () => {
    // An application with CashewsModule is up: the warning is about the instance, not a missing module.
    await withApp([Catalog], async () => {
      const stray = new Catalog();
      const lines = await logged(async () => {
        await stray.bound(4);
        await stray.find(4);
      });
      expect(stray.runs).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('Catalog.find was called without its decorators (@Cache) applied');
    });
  });

  it('warns when an undecorated override reaches a decorated base method through super (not silently uncached)', async () => {
    @Injectable()
    class Plain extends Base {
      // No decorators: the instance's find is this one, so Base's @Cache never applies to it.
      override async find(id: number): Promise<string> {
        return `plain ${await super.find(id)}`;
      }

      @Cache({ ttl: '1m', key: 'bound-ref:plain-other:{id}' })
      async other(id: number): Promise<number> {
        return id;
      }
    }
    await withApp([Plain], async (moduleRef) => {
      const plain = moduleRef.get(Plain);
      const lines = await logged(async () => {
        await plain.find(5);
        await plain.find(5);
      });
      expect(plain.baseRuns).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('Base.find was called without its decorators (@Cache) applied');
      expect(lines[0]).toContain('Plain.find');
    });
  });

  it('warns when another decorator above ours hides them (no metadata copied) on an instance with other decorated methods', async () => {
    /** A method decorator that wraps without copying metadata: cashews no longer sees the layers on the method. */
    const Hiding = (): MethodDecorator => (_target, _key, descriptor: PropertyDescriptor) => {
      const inner = descriptor.value as (...args: unknown[]) => unknown;
      descriptor.value = function (this: unknown, ...args: unknown[]) {
        return inner.apply(this, args);
      };
    };
    @Injectable()
    class Hidden {
      runs = 0;

      @Hiding()
      @Cache({ ttl: '1m', key: 'bound-ref:hidden:{id}' })
      async find(id: number): Promise<string> {
        this.runs++;
        return `hidden ${id}`;
      }

      @Cache({ ttl: '1m', key: 'bound-ref:hidden-other:{id}' })
      async other(id: number): Promise<number> {
        return id;
      }
    }
    await withApp([Hidden], async (moduleRef) => {
      const hidden = moduleRef.get(Hidden);
      const lines = await logged(async () => {
        await hidden.find(6);
        await hidden.find(6);
      });
      expect(hidden.runs).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('Hidden.find was called without its decorators (@Cache) applied');
    });
  });

  it('a decorated override calling super, and a metadata-copying decorator above ours, still say nothing', async () => {
    @Injectable()
    class Traced {
      runs = 0;

      @Copying()
      @Cache({ ttl: '1m', key: 'bound-ref:traced:{id}' })
      async find(id: number): Promise<string> {
        this.runs++;
        return `traced ${id}`;
      }
    }
    await withApp([Traced, Derived], async (moduleRef) => {
      const traced = moduleRef.get(Traced);
      const derived = moduleRef.get(Derived);
      const lines = await logged(async () => {
        expect(await traced.find(7)).toBe('traced 7');
        expect(await traced.find(7)).toBe('traced 7');
        expect(await derived.find(7)).toBe('derived base 7');
      });
      expect(traced.runs).toBe(1);
      expect(lines).toEqual([]);
    });
  });

  // Known gap (review of 98b84fd): under a metadata-copying decorator above ours (a tracing @Span), a reference bound
  // before the wrapping calls that decorator, which calls our guard; the guard cannot tell this from the explorer's
  // own wrapper calling through the same decorator, so it runs undecorated and says nothing. Routing it to the wrapper
  // would recurse; telling the two apart needs a per-call mark, which an asynchronous foreign wrapper would defeat.
  // This pins the limitation the README states; a change that closes the gap makes the limit apply here (2 rejected).
  it('known limitation (README): a reference bound before decoration under a metadata-copying decorator above ours runs undecorated', async () => {
    @Injectable()
    class TracedLimited {
      readonly bound = this.ping.bind(this);

      @Copying()
      @RateLimit({ limit: 1, period: '1m', key: 'bound-ref:traced-limit' })
      async ping(): Promise<string> {
        return 'pong';
      }
    }
    await withApp([TracedLimited], async (moduleRef) => {
      const limited = moduleRef.get(TracedLimited);
      const results = await Promise.allSettled([limited.bound(), limited.bound(), limited.bound()]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      // Through `this.ping()` the limit applies: the instance's own method is the explorer's wrapper.
      await expect(limited.ping()).resolves.toBe('pong');
      await expect(limited.ping()).rejects.toBeInstanceOf(RateLimitError);
    });
  });
});
