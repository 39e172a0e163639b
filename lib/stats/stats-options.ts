import { CashewsConfigError } from '../errors.js';
import type { PromRegistryLike } from '../metrics/prom-client.js';

/**
 * Decides whether a request may read the statistics. It receives the HTTP adapter's request (Express `Request`,
 * Fastify `FastifyRequest`); `false` (or a rejected promise, or a throw) answers `403`.
 * @example (req) => req.headers['x-dashboard-token'] === process.env.DASHBOARD_TOKEN
 */
export type StatsGuard = (req: StatsRequest) => boolean | Promise<boolean>;

/** What a guard usually reads; the object is the adapter's own request. */
export interface StatsRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly ip?: string;
  readonly url?: string;
  readonly [field: string]: unknown;
}

/** Module option `metrics`: Prometheus exposition on a path, into a prom-client registry, or both. */
export interface CashewsMetricsOptions {
  /** Serve the Prometheus text format here, e.g. `'/metrics'`. */
  path?: string;
  /** A prom-client `Registry` (e.g. `register` from `prom-client`): the cashews metrics are collected into it on scrape. */
  registry?: PromRegistryLike;
  /** Who may read `path`. Default: anyone who can reach the server. */
  guard?: StatsGuard;
}

/** Module option `dashboard`: the stats page (off by default). */
export interface CashewsDashboardOptions {
  /** Where the page is served, e.g. `'/cashews'`; its data is at `<path>/stats.json`. */
  path: string;
  /**
   * Required: who may see the page and its data. Pass `() => true` to make it deliberately public.
   * @example (req) => req.headers['x-dashboard-token'] === process.env.DASHBOARD_TOKEN
   */
  guard: StatsGuard;
}

/** The usage-statistics module options (`CashewsModule.forRoot(url, { metrics, dashboard })`). */
export interface CashewsStatsOptions {
  metrics?: CashewsMetricsOptions;
  dashboard?: CashewsDashboardOptions;
}

const PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

function checkPath(where: string, path: unknown): string {
  if (typeof path !== 'string' || !PATH.test(path) || path.length > 200) {
    throw new CashewsConfigError(
      `${where} must be an absolute URL path such as '/metrics' (segments of letters, digits, ".", "_", "~" ` +
        `and "-"; no trailing slash, query or wildcard); got ${JSON.stringify(path)}.`,
    );
  }
  return path;
}

function checkKeys(where: string, options: object, allowed: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name)) {
      throw new CashewsConfigError(`${where}: unknown option "${name}". Accepted: ${allowed.join(', ')}.`);
    }
  }
}

/** Validates `metrics` and `dashboard` at bootstrap. @throws CashewsConfigError naming the bad option. */
export function validateStatsOptions(options: CashewsStatsOptions): void {
  const { metrics, dashboard } = options;
  if (metrics !== undefined) {
    if (typeof metrics !== 'object' || metrics === null) {
      throw new CashewsConfigError("CashewsModule option metrics must be an object such as { path: '/metrics' }.");
    }
    checkKeys('CashewsModule option metrics', metrics, ['path', 'registry', 'guard']);
    if (metrics.path === undefined && metrics.registry === undefined) {
      throw new CashewsConfigError(
        "CashewsModule option metrics needs a path ({ path: '/metrics' }), a prom-client registry, or both.",
      );
    }
    if (metrics.path !== undefined) checkPath('metrics.path', metrics.path);
    if (metrics.guard !== undefined && typeof metrics.guard !== 'function') {
      throw new CashewsConfigError('metrics.guard must be a function (req) => boolean | Promise<boolean>.');
    }
    if (
      metrics.registry !== undefined &&
      typeof (metrics.registry as { registerMetric?: unknown })?.registerMetric !== 'function'
    ) {
      throw new CashewsConfigError('metrics.registry must be a prom-client Registry (new Registry() or register).');
    }
  }
  if (dashboard !== undefined) {
    if (typeof dashboard !== 'object' || dashboard === null) {
      throw new CashewsConfigError(
        "CashewsModule option dashboard must be an object such as { path: '/cashews', guard: (req) => … }.",
      );
    }
    checkKeys('CashewsModule option dashboard', dashboard, ['path', 'guard']);
    checkPath('dashboard.path', dashboard.path);
    if (typeof dashboard.guard !== 'function') {
      throw new CashewsConfigError(
        'dashboard.guard is required: a function (req) => boolean | Promise<boolean> deciding who may see the ' +
          'stats page (pass () => true to make it public on purpose).',
      );
    }
  }
  if (
    metrics?.path !== undefined &&
    dashboard &&
    [dashboard.path, `${dashboard.path}/stats.json`].includes(metrics.path)
  ) {
    throw new CashewsConfigError(`metrics.path ${metrics.path} collides with the stats page at ${dashboard.path}.`);
  }
}
