import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CashewsModule, type StatsRequest } from '../lib/index.js';
import { AdminModule } from './admin/admin.module.js';
import { CategoriesModule } from './categories/categories.module.js';
import { ErrorFilter } from './common/error.filter.js';
import { slowCommandLog } from './common/slow-command.hook.js';
import { ProductsModule } from './products/products.module.js';
import { ReportsRoutesModule } from './reports/reports-routes.module.js';
import { SessionsModule } from './sessions/sessions.module.js';

/** The stats page is for operators: a shared token when DASHBOARD_TOKEN is set, else loopback callers only. */
/** The regions shipping is quoted for; any other X-Region (or none) is 'eu', so a header cannot grow the cache. */
const REGIONS = new Set(['eu', 'us', 'apac']);

function regionOf(header: string | string[] | undefined): string {
  const region = String(header ?? '').toLowerCase();
  return REGIONS.has(region) ? region : 'eu';
}

function dashboardGuard(req: StatsRequest): boolean {
  const token = process.env.DASHBOARD_TOKEN;
  if (token) return req.headers['x-dashboard-token'] === token;
  return ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(String(req.ip));
}

@Module({
  imports: [
    // One URL picks the backend: in-process memory by default, Redis when REDIS_URL is set. The decorators
    // and the code using CacheService are identical either way.
    // detectHeaders: every response served (partly) from cache says so in X-From-Cache* headers; cacheControl
    // honours the request's Cache-Control (no-cache, no-store, max-age) and sends Age / Cache-Control back.
    // metrics: Prometheus text on /metrics. dashboard: the stats page on /cashews (its data on /cashews/stats.json),
    // for callers sending X-Dashboard-Token: $DASHBOARD_TOKEN, or, when that variable is unset, from this machine only.
    CashewsModule.forRoot(process.env.REDIS_URL ?? 'mem://', {
      detectHeaders: true,
      cacheControl: true,
      metrics: { path: '/metrics' },
      dashboard: { path: '/cashews', guard: dashboardGuard },
      // The key context of each request: `{@region}` in a key template reads it (see ProductsService.shipping).
      keyContext: (req) => ({ region: regionOf(req.headers['x-region']) }),
      // Command hooks see every command on its way to the backend; this one logs the slow ones.
      hooks: [slowCommandLog(Number(process.env.SLOW_COMMAND_MS ?? 50))],
    }),
    // A second, small instance for per-visitor data, injected with @InjectCache('sessions'). Its default TTL
    // applies to every write and decorator on it that gives none.
    CashewsModule.forRoot('mem://?size=1000', { name: 'sessions', ttl: '30m' }),
    ProductsModule,
    CategoriesModule,
    SessionsModule,
    AdminModule,
    ReportsRoutesModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: ErrorFilter }],
})
export class AppModule {}
