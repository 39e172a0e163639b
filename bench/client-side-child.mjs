// Child of bench/scenarios/client-side.mjs: a second process writing through its own client-side cache.
// argv: <dist index.js URL> <redis url> <key> <count> <gapMs>. For each i it stores `{ i, at }` where `at` is
// performance.timeOrigin + performance.now() taken right before the write is sent, then waits `gapMs`.
import { performance } from 'node:perf_hooks';

const [libUrl, url, key, count, gapMs] = process.argv.slice(2);
const { createCache } = await import(libUrl);
const cache = await createCache(url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  await sleep(300); // let the parent start polling
  for (let i = 1; i <= Number(count); i++) {
    await cache.set(key, { i, at: performance.timeOrigin + performance.now() }, { ttl: '10m' });
    await sleep(Number(gapMs));
  }
} finally {
  await cache.close();
}
