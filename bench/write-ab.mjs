// A/B of the Redis write path (`set`, `expire`) between builds of this package, in ONE process:
//   node bench/write-ab.mjs <redis-url> <checkout-A> <checkout-B>   (each checkout built with `npm run build`)
// As bench/hit-ab.mjs: the builds run interleaved, 15 rounds, and the median of per-round time ratios (B / A) is
// printed with its range. A round is 20,000 writes issued 100 at a time (they leave in one auto-pipelined write),
// so the ratio is of throughput, client and server together. Keys never had tags, unless the name ends in "tagged".
// Only keys under `write-ab:` are written; they are deleted at the end.
import { performance } from 'node:perf_hooks';

const [url, ...dists] = process.argv.slice(2);
const N = 20_000;
const BATCH = 100;
const subjects = [];
for (const dist of dists) {
  // index.js, not entry.js: the entry hands out the first copy loaded of this package version.
  const { createCache } = await import(`${dist}/dist/esm/index.js`);
  subjects.push({ name: dist.split('/').pop(), cache: await createCache(url) });
}
const { cache: first } = subjects[0];
for (let i = 0; i < 1024; i++) await first.set(`write-ab:tagged:${i}`, i, { ttl: '1h', tags: [`t${i & 15}`] });

const ops = {
  set: (cache, i) => cache.set(`write-ab:${i & 1023}`, i, { ttl: '1h' }),
  expire: (cache, i) => cache.expire(`write-ab:${i & 1023}`, '1h'),
  'set tagged': (cache, i) => cache.set(`write-ab:tagged:${i & 1023}`, i, { ttl: '1h' }),
};
for (const [label, op] of Object.entries(ops)) {
  const ratios = [];
  for (let r = 0; r < 15; r++) {
    const t = [];
    for (const { cache } of subjects) {
      const start = performance.now();
      for (let i = 0; i < N; i += BATCH) {
        const batch = [];
        for (let j = i; j < i + BATCH; j++) batch.push(op(cache, j));
        await Promise.all(batch);
      }
      t.push(((performance.now() - start) * 1e6) / N);
    }
    ratios.push(t.map((x) => x / t[0]));
  }
  for (let k = 1; k < subjects.length; k++) {
    const rs = ratios.map((r) => r[k]).sort((a, b) => a - b);
    console.log(
      `${label}: ${subjects[k].name} / ${subjects[0].name} time ratio: median ${rs[7].toFixed(3)} ` +
        `(range ${rs[0].toFixed(3)}..${rs[14].toFixed(3)})`,
    );
  }
}
await first.deleteMatch('write-ab:*');
for (const { cache } of subjects) await cache.close();
