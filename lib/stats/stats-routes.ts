import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { CacheService } from '../cache.service.js';
import { CashewsRegistry } from '../cashews.registry.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from '../dashboard/page.js';
import { CashewsConfigError } from '../errors.js';
import { registerPromClient, type PromRegistryLike } from '../metrics/prom-client.js';
import { metricFamilies, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../metrics/prometheus.js';
import type { StatsGuard, StatsRequest } from './stats-options.js';
import { HISTORY_BUCKET_MS, HISTORY_BUCKETS, type CacheStats } from './types.js';

type Handler = (req: StatsRequest, res: unknown) => Promise<void>;

/**
 * Serves the usage statistics when a `forRoot` asked for them: the Prometheus exposition (`metrics.path`),
 * collectors in a prom-client registry (`metrics.registry`), and the stats page with its JSON
 * (`dashboard.path`, `<path>/stats.json`). Routes are added through Nest's HTTP adapter in `onModuleInit`
 * (after the application's routes, before Express's 404 handler), so Express and Fastify behave the same; they
 * sit outside any global prefix. Every instance of the application is reported, whichever `forRoot` set the option.
 */
@Injectable()
export class CashewsStatsRoutes implements OnModuleInit {
  private readonly logger = new Logger('Cashews');
  private readonly denied = new WeakSet<StatsGuard>();

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(CashewsRegistry) private readonly registry: CashewsRegistry,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    const instances = this.instances();
    const metrics = new Map<string, StatsGuard | undefined>();
    const registries = new Set<PromRegistryLike>();
    const dashboards = new Map<string, StatsGuard>();
    for (const cache of instances) {
      const options = this.registry.statsOptionsOf(cache);
      if (options?.metrics?.path) share(metrics, 'metrics', options.metrics.path, options.metrics.guard, cache);
      if (options?.metrics?.registry) registries.add(options.metrics.registry);
      if (options?.dashboard) share(dashboards, 'dashboard', options.dashboard.path, options.dashboard.guard, cache);
    }
    if (!metrics.size && !registries.size && !dashboards.size) return;

    const stats = (): CacheStats[] => instances.map((cache) => cache.stats());
    for (const registry of registries) await registerPromClient(registry, stats);

    const taken = new Set<string>();
    const claim = (path: string) => {
      if (taken.has(path)) throw new CashewsConfigError(`Two cashews statistics routes want ${path}.`);
      taken.add(path);
    };
    const routes: Array<[string, Handler]> = [];
    for (const [path, guard] of metrics) {
      claim(path);
      routes.push([
        path,
        this.handler(guard, () => ({
          type: PROMETHEUS_CONTENT_TYPE,
          body: renderPrometheus(metricFamilies(stats())),
        })),
      ]);
    }
    for (const [path, guard] of dashboards) {
      claim(path);
      claim(`${path}/stats.json`);
      routes.push([
        path,
        this.handler(guard, () => ({ type: 'text/html; charset=utf-8', body: DASHBOARD_HTML, csp: DASHBOARD_CSP })),
      ]);
      routes.push([
        `${path}/stats.json`,
        this.handler(guard, () => ({
          type: 'application/json; charset=utf-8',
          body: JSON.stringify({
            generatedAt: Date.now(),
            bucketMs: HISTORY_BUCKET_MS,
            buckets: HISTORY_BUCKETS,
            instances: stats(),
          }),
        })),
      ]);
    }
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) {
      if (routes.length) {
        this.logger.warn(
          `No HTTP server in this application: the statistics routes (${[...taken].join(', ')}) are not served.`,
        );
      }
      return;
    }
    for (const [path, handler] of routes) adapter.get(path, handler);
  }

  /** Every cache instance of the application, the default one first. */
  private instances(): CacheService[] {
    const found = new Set<CacheService>();
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.instance instanceof CacheService) found.add(wrapper.instance);
    }
    return [...found].sort((a, b) =>
      a.name === undefined ? -1 : b.name === undefined ? 1 : a.name.localeCompare(b.name),
    );
  }

  private handler(guard: StatsGuard | undefined, render: () => { type: string; body: string; csp?: string }): Handler {
    const adapter = () => this.adapterHost.httpAdapter;
    return async (req, res) => {
      const send = (status: number, type: string, body: string, csp?: string) => {
        const http = adapter();
        http.setHeader(res, 'Content-Type', type);
        http.setHeader(res, 'Cache-Control', 'no-store');
        http.setHeader(res, 'X-Content-Type-Options', 'nosniff');
        if (csp) http.setHeader(res, 'Content-Security-Policy', csp);
        http.reply(res, body, status);
      };
      try {
        if (guard && !(await this.allowed(guard, req))) {
          send(403, 'text/plain; charset=utf-8', 'Forbidden\n');
          return;
        }
        const { type, body, csp } = render();
        send(200, type, body, csp);
      } catch (error) {
        this.logger.error(`Cashews statistics route failed: ${error instanceof Error ? error.message : String(error)}`);
        send(500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
      }
    };
  }

  private async allowed(guard: StatsGuard, req: StatsRequest): Promise<boolean> {
    try {
      return (await guard(req)) === true;
    } catch (error) {
      if (!this.denied.has(guard)) {
        this.denied.add(guard);
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`A cashews statistics guard threw (${reason}); such requests are refused with 403.`);
      }
      return false;
    }
  }
}

/**
 * Adds `cache`'s statistics route to `routes`: instances may share a path (one route serves them all), but only with
 * the same guard. Kept per path with the last guard winning, an instance that set the path without a guard made the
 * route of another one's guarded statistics public.
 * @throws CashewsConfigError when the path is taken with another guard.
 */
function share(
  routes: Map<string, StatsGuard | undefined>,
  option: 'metrics' | 'dashboard',
  path: string,
  guard: StatsGuard | undefined,
  cache: CacheService,
): void {
  if (routes.has(path) && routes.get(path) !== guard) {
    throw new CashewsConfigError(
      `Two cache instances serve ${option} at ${path} with different guards (the second: ${instanceName(cache)}). ` +
        `Instances sharing a statistics path must give the same guard function, or use different paths.`,
    );
  }
  routes.set(path, guard);
}

function instanceName(cache: CacheService): string {
  return cache.name === undefined ? 'the default instance' : `instance "${cache.name}"`;
}
