// The X-From-Cache headers on a cached GET must cost little on Redis too (issue #15: "headers without a tax"): the
// same @Cache hit on redis:// with detectHeaders on vs off, in interleaved paired rounds. A detected hit needs the
// entry's remaining TTL as well as its value; both must come back in the hit's one round trip.
import { get } from 'node:http';
import { closeClients, compareHttp, load, startApp } from '../http/apps.mjs';

export const name = 'http-headers-redis';
export const description = 'HTTP: @Cache hit with X-From-Cache headers (detectHeaders) vs without, redis:// (req/s)';

/** The key of GET /p/cached in both apps (bench/http/app-child.mjs): `<class>:<method>:v<hash>:GET:<path>`. */
const ROUTE_KEYS = 'ProductsController:cached:v*:GET:/p/cached';

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
  const off = await startApp('cashews', url);
  const on = await startApp('cashews-headers', url);
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
    // Only the route's own entry (one key, shared by both apps), found by its exact shape.
    let cursor = '0';
    const found = new Set();
    do {
      const [next, more] = await raw.scan(cursor, 'MATCH', ROUTE_KEYS, 'COUNT', 1000);
      cursor = next;
      for (const key of more) found.add(key);
    } while (cursor !== '0');
    if (found.size) await raw.del(...found);
    await raw.quit().catch(() => raw.disconnect());
  }
}
