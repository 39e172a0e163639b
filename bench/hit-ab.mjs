// A/B of the decorated @Cache hit path between builds of this package, in ONE process:
//   node bench/hit-ab.mjs <checkout-A> <checkout-B> [...]   (each checkout built with `npm run build`)
// Separate processes on this shared machine differ by more than a hot-path change does (JIT and CPU phases);
// here the builds run interleaved, 15 rounds of 200k calls each, and the median of per-round time ratios
// (B / A) is printed with its range. Used for the "no slower than before" checks of hot-path changes.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
async function subject(dist) {
  // index.js, not entry.js: the entry hands out the first copy loaded of this package version (see
  // scripts/build.mjs), so two builds of one version would both run the first.
  const { CashewsModule, Cache } = await import(`${dist}/dist/esm/index.js`);
  class Products {
    async find(id, color) {
      return { id, color, price: 10 };
    }
  }
  Cache({ ttl: '10m' })(Products.prototype, 'find', Object.getOwnPropertyDescriptor(Products.prototype, 'find'));
  Injectable()(Products);
  class M {}
  Module({ imports: [CashewsModule.forRoot('mem://?size=10000')], providers: [Products] })(M);
  const app = await NestFactory.createApplicationContext(M, { logger: false });
  const p = app.get(Products);
  for (let i = 0; i < 1024; i++) await p.find(i, 'red');
  return { name: dist.split('/').pop(), p, app };
}
const subjects = [];
for (const d of process.argv.slice(2)) subjects.push(await subject(d));
const N = 200000;
const ratios = [];
for (let r = 0; r < 15; r++) {
  const t = [];
  for (const s of subjects) {
    const start = performance.now();
    for (let i = 0; i < N; i++) await s.p.find(i & 1023, 'red');
    t.push(((performance.now() - start) * 1e6) / N);
  }
  ratios.push(t.map((x) => x / t[0]));
}
for (let k = 1; k < subjects.length; k++) {
  const rs = ratios.map((r) => r[k]).sort((a, b) => a - b);
  console.log(
    `${subjects[k].name} / ${subjects[0].name} time ratio: median ${rs[7].toFixed(3)} (range ${rs[0].toFixed(3)}..${rs[14].toFixed(3)})`,
  );
}
for (const s of subjects) await s.app.close();
