import { checkTimerMs } from './timer-duration.js';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { CacheService } from './cache.service.js';
import { httpFeatures, type CashewsHttpOptions, type HttpFeatures } from './detect/http-options.js';
import { parseDuration } from './duration.js';
import { CashewsConfigError } from './errors.js';
import type { CashewsStatsOptions } from './stats/stats-options.js';
import { trackProcessWide } from './strategies/executor.js';

/** How long `app.close()` waits for in-flight background refreshes when no `shutdownTimeout` is given. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 5_000;

/** Global interceptors / filter of an application: what one `forRoot` asked for (`undefined`: the default, on). */
export interface CashewsGlobals {
  globalInterceptors?: boolean;
  globalFilter?: boolean;
  directRoutes?: boolean;
}

/** What one `forRoot` registered: its instance and the options that are not the instance's own. */
export interface CashewsRegistration {
  readonly cache: CacheService;
  readonly http: CashewsHttpOptions;
  readonly stats: CashewsStatsOptions;
  readonly globals: CashewsGlobals;
  /**
   * Whether the application needs the global interceptor for this `forRoot`: `globalInterceptors`, else whether its
   * HTTP options concern every route (known for a `forRootAsync` only once its factory ran).
   */
  readonly globalInterceptor?: boolean;
  /** Whether this `forRoot` imported the global interceptor's module (decided before any factory runs). */
  readonly imported?: boolean;
  /** ms, already validated. */
  readonly shutdownTimeout?: number;
}

interface BackgroundTask {
  readonly target: string;
  readonly done: Promise<void>;
}

/**
 * The module state of one application: the cache instances its `forRoot`s created, their HTTP and statistics
 * options, and the background refreshes started on its behalf (`@Early`, `@Soft`, cache-manager `refreshThreshold`).
 * Provided once per application by the core module; nothing of it lives at module level, so two applications in one
 * process never see each other's options.
 *
 * At `app.close()` (`beforeApplicationShutdown`, before the instances close their connections) it waits for the
 * refreshes in flight, at most `shutdownTimeout` (default 5 s); what is still running then is abandoned and logged.
 */
@Injectable()
export class CashewsRegistry implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Cashews');
  private readonly entries = new Map<string | undefined, CashewsRegistration>();
  private readonly background = new Set<BackgroundTask>();

  /** Called by each `forRoot` factory once its instance is created. */
  register(name: string | undefined, registration: CashewsRegistration): void {
    for (const [otherName, other] of this.entries) refuseMixedGlobals(name, registration, otherName, other);
    this.entries.set(name, registration);
  }

  /** Whether decorated handlers may become direct routes (`directRoutes`, on unless a `forRoot` turns it off). */
  directRoutes(): boolean {
    return [...this.entries.values()].every((entry) => entry.globals.directRoutes !== false);
  }

  /**
   * How HTTP options reach routes without decorators: `interceptor` (a `forRoot` registered the global interceptor)
   * or `middleware` (none did: `detectHeaders` applies the module's middleware).
   */
  everyRoute(): 'interceptor' | 'middleware' {
    const entries = [...this.entries.values()];
    return entries.some((entry) => entry.globalInterceptor === true) ? 'interceptor' : 'middleware';
  }

  /**
   * Whether the global interceptor is needed but no `forRoot` imported its module: a `forRootAsync` whose factory
   * asked for an option every route needs it for. The core module then registers it at start-up.
   */
  registersInterceptorLate(): boolean {
    const entries = [...this.entries.values()];
    return this.everyRoute() === 'interceptor' && !entries.some((entry) => entry.imported === true);
  }

  /** HTTP features of the application: a feature is on when any `forRoot` turns it on. */
  httpFeatures(): HttpFeatures {
    return httpFeatures([...this.entries.values()].map((entry) => entry.http));
  }

  /** The `metrics` / `dashboard` options given with `cache`, if a `forRoot` of this application created it. */
  statsOptionsOf(cache: object): CashewsStatsOptions | undefined {
    for (const entry of this.entries.values()) {
      if (entry.cache === cache) return entry.stats.metrics || entry.stats.dashboard ? entry.stats : undefined;
    }
    return undefined;
  }

  /**
   * Tracks background work of this application until it settles: `app.close()` waits for it. Failures are the
   * caller's to handle (`work` should not reject; a rejection is ignored here).
   */
  track(target: string, work: Promise<unknown>): void {
    const settle = () => void this.background.delete(task);
    const task: BackgroundTask = { target, done: work.then(settle, settle) };
    this.background.add(task);
    trackProcessWide(task.done);
  }

  /** Resolves when every background refresh of this application started so far has finished. */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background].map((task) => task.done));
  }

  /** Waits for in-flight refreshes (bounded), before Nest's `onApplicationShutdown` closes the connections. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.background.size === 0) return;
    const limit = this.shutdownTimeout();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limit)));
    const outcome = await Promise.race([this.settled().then(() => 'settled' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'settled') return;
    const targets = [...new Set([...this.background].map((task) => task.target))];
    this.logger.warn(
      `Shutdown: ${this.background.size} background refresh(es) still running after shutdownTimeout ` +
        `(${limit} ms) were abandoned: ${targets.join(', ')}. Their results are not stored. Raise the ` +
        `CashewsModule option shutdownTimeout to wait longer.`,
    );
    this.background.clear();
  }

  /** The longest `shutdownTimeout` of the application's `forRoot`s, or the default. */
  private shutdownTimeout(): number {
    const given = [...this.entries.values()].flatMap((entry) =>
      entry.shutdownTimeout === undefined ? [] : [entry.shutdownTimeout],
    );
    return given.length ? Math.max(...given) : DEFAULT_SHUTDOWN_TIMEOUT;
  }
}

/** Validates the module option `shutdownTimeout`. @returns ms, or `undefined` when not given. */
export function parseShutdownTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new CashewsConfigError(
      `Invalid CashewsModule option shutdownTimeout: ${JSON.stringify(value)}. Accepted: milliseconds (5000) or a ` +
        `duration string ('5s', '1500ms').`,
    );
  }
  // A timer waits for it (Node fires a longer one after 1 ms: shutdown would not wait at all).
  return checkTimerMs(parseDuration(value, 'shutdownTimeout'), 'shutdownTimeout');
}

/** Validates the module-shape options `globalInterceptors`, `globalFilter` and `directRoutes` (booleans). */
export function validateGlobals(globals: CashewsGlobals): void {
  if (globals.directRoutes !== undefined && typeof globals.directRoutes !== 'boolean') {
    throw new CashewsConfigError(
      `Invalid CashewsModule option directRoutes: ${JSON.stringify(globals.directRoutes)}. Accepted: true (decorated ` +
        'handlers run their layers themselves where they can, the default) or false (every decorated handler runs ' +
        'them in the interceptor its decorators attach).',
    );
  }
  for (const option of ['globalInterceptors', 'globalFilter'] as const) {
    const value = globals[option];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CashewsConfigError(
        `Invalid CashewsModule option ${option}: ${JSON.stringify(value)}. Accepted: true (registered globally${
          option === 'globalFilter' ? ', the default' : ''
        }) or false (not registered; mount it with ${
          option === 'globalFilter'
            ? '@UseFilters(CashewsExceptionFilter)'
            : '@UseInterceptors(CacheHeadersInterceptor)'
        } where needed).`,
      );
    }
  }
}

/**
 * Validates the module-shape options `cacheManagerCompat` and `isGlobal` (booleans): a truthy string such as 'false'
 * from an environment variable would switch them on.
 */
export function validateModuleFlags(flags: { cacheManagerCompat?: unknown; isGlobal?: unknown }): void {
  const answers = {
    cacheManagerCompat: 'true (CACHE_MANAGER and the CacheManager provider over this instance) or false (the default)',
    isGlobal: "true (the default: the instance's providers reach every module) or false",
  };
  for (const option of ['cacheManagerCompat', 'isGlobal'] as const) {
    const value = flags[option];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CashewsConfigError(
        `Invalid CashewsModule option ${option}: ${JSON.stringify(value)}. Accepted: ${answers[option]}.`,
      );
    }
  }
}

/**
 * The global interceptors and filter belong to the application: a `forRoot` that switches them off while another
 * leaves them on (the default) would see them registered anyway. Refused, naming both.
 */
function refuseMixedGlobals(
  name: string | undefined,
  mine: CashewsRegistration,
  otherName: string | undefined,
  other: CashewsRegistration,
): void {
  const label = (n: string | undefined) => (n === undefined ? 'the default forRoot' : `forRoot "${n}"`);
  for (const option of ['globalInterceptors', 'globalFilter', 'directRoutes'] as const) {
    if ((mine.globals[option] ?? true) === (other.globals[option] ?? true)) continue;
    throw new CashewsConfigError(
      `CashewsModule option ${option} differs between ${label(otherName)} (${String(other.globals[option] ?? true)}) ` +
        `and ${label(name)} (${String(mine.globals[option] ?? true)}); it applies to the whole application. Give ` +
        `every CashewsModule.forRoot / forRootAsync of the application the same ${option}.`,
    );
  }
}
