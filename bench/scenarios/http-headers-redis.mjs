// The X-From-Cache headers on a cached GET must cost little on Redis too (issue #15: "headers without a tax"): the
// same @Cache hit on redis:// with detectHeaders on vs off, in interleaved paired rounds. A detected hit needs the
// entry's remaining TTL as well as its value; both must come back in the hit's one round trip.
import { get } from 'node:http';
import { deleteRedisKeysMatching } from '../harness.mjs';
import { closeClients, compareHttp, load, startApp } from '../http/apps.mjs';

export const name = 'http-headers-redis';
export const description = 'HTTP: @Cache hit with X-From-Cache headers (detectHeaders) vs without, redis:// (req/s)';

/** The key of GET /p/cached in both apps (bench/http/app-child.mjs): `<prefix>:<class>:<method>:v<hash>:GET:<path>`. */
const routeKeys = (prefix) => `${prefix}:ProductsController:cached:v*:GET:/p/cached`;

/** The X-From-Cache header of one GET (checks that the headers are on, and that the hit is served from cache). */
function fromCacheHeader(url) {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      res.once('end', () => resolve(res.headers['x-from-cache']));
    }).once('error', reject);
  });
}

export async function run(ctx) {
  const url = ctx.redisUrl();
  await ctx.lib('CashewsModule');
  const raw = await ctx.rawRedis();
  // Both apps read the one entry of this run's prefix (a concurrent run on the same database has its own).
  const prefix = `nestjs-cashews-bench-headers-${process.pid}-${Date.now()}`;
  const off = await startApp('cashews', url, { BENCH_KEY_PREFIX: prefix });
  const on = await startApp('cashews-headers', url, { BENCH_KEY_PREFIX: prefix });
  try {
    await load(`${on.base}/p/cached`, 1);
    if (!(await fromCacheHeader(`${on.base}/p/cached`))) {
      throw new Error('the app with detectHeaders answered a hit without X-From-Cache');
    }
    return await compareHttp(ctx, {
      anchor: 'hit without headers',
      contenders: [
        { name: 'hit without headers', url: `${off.base}/p/cached` },
        { name: 'hit with headers', url: `${on.base}/p/cached` },
      ],
      targets: [{ contender: 'hit with headers', min: 0.95, label: '>= 0.95x without headers' }],
    });
  } finally {
    closeClients();
    await Promise.all([off.stop(), on.stop()]);
    // Only the route's own entry (one key of this run, shared by both apps).
    await deleteRedisKeysMatching(raw, routeKeys(prefix));
    await raw.quit().catch(() => raw.disconnect());
  }
}
