#!/usr/bin/env node
// Benchmark runner: `node bench/run.mjs [scenario-name-substring ...]`
//
// Every file in bench/scenarios/*.mjs exports `{ name, run(ctx) }` (named or default export). `run`
// returns the result of `ctx.compare(...)`, `{ checks }` (exact counts, or figures with a `max`) or `{ info: true, text }` (a
// report with no target, e.g. the scale curves), or throws `ctx.skip(reason)`. A scenario that cannot load
// what it needs (library not built, export missing, Redis not reachable) is reported as skipped and the
// other scenarios still run. The report is printed and written to bench/results.json.
//
// Environment:
//   REDIS_URL        Redis for the redis scenarios (default redis://127.0.0.1:6379/15; loopback only
//                    unless BENCH_ALLOW_REMOTE_REDIS=1). Only keys the bench creates are deleted.
//   BENCH_ROUNDS     measured rounds per scenario (default 11)
//   BENCH_ROUND_MS   target duration of one contender's batch (default 300)
//
// Exit code: 0 when every target passed (skipped scenarios do not fail), 1 on a FAIL or a scenario error.
//
// Each scenario runs in a process of its own (this script again, with BENCH_ONLY_SCENARIO naming its file): the figures
// of one scenario must not depend on which scenarios ran before it in the same process. Sharing one process, the
// library's hot functions met the shapes of every earlier scenario (Redis, client-side, @Adaptive) and their call
// sites went polymorphic: the decorated memory hit measured 0.41x the hand-written floor after the others and 0.58x
// on its own, while the floor itself barely moved.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { SkipError, compare, formatResult } from './harness.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const LIB_URL = new URL('../dist/esm/entry.js', import.meta.url);
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/15';

const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS) || 11);
const roundMs = Math.max(20, Number(process.env.BENCH_ROUND_MS) || 300);
const filters = process.argv.slice(2);
// Set by the parent for a child process: the one scenario file it runs, and where it writes its report.
const onlyScenario = process.env.BENCH_ONLY_SCENARIO;
const reportPath = process.env.BENCH_REPORT_PATH;
const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;

const maskUrl = (url) => url.replace(/\/\/([^@/]*)@/, '//***@');
const log = (line = '') => process.stdout.write(line + '\n');

let libPromise;
/** The library under test (../dist/esm/entry.js). Skips the scenario if it is not built or lacks `names`. */
async function lib(...names) {
  libPromise ??= import(LIB_URL.href);
  let mod;
  try {
    mod = await libPromise;
  } catch (error) {
    const hint = error?.code === 'ERR_MODULE_NOT_FOUND' ? ' (run `npm run build` first)' : '';
    throw new SkipError(`cannot import dist/esm/entry.js: ${error?.message ?? error}${hint}`);
  }
  const missing = names.filter((name) => mod[name] === undefined);
  if (missing.length) throw new SkipError(`dist/esm/entry.js does not export ${missing.join(', ')} (not built yet?)`);
  return mod;
}

/** REDIS_URL, refusing non-loopback hosts unless explicitly allowed (the bench writes and deletes keys). */
function redis() {
  let host;
  try {
    host = new URL(redisUrl).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new SkipError(`REDIS_URL is not a URL: ${maskUrl(redisUrl)}`);
  }
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  if (!loopback && process.env.BENCH_ALLOW_REMOTE_REDIS !== '1') {
    throw new SkipError(`REDIS_URL host ${host} is not loopback (set BENCH_ALLOW_REMOTE_REDIS=1 to allow)`);
  }
  return redisUrl;
}

/**
 * A plain ioredis client on REDIS_URL, connected and answering PING, for a scenario's own setup and cleanup; a Redis
 * that does not answer skips the scenario (with the reason its connection gave, the URL's password masked).
 */
async function rawRedis() {
  const url = redis();
  const raw = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  let lastError;
  raw.on('error', (error) => (lastError = error));
  try {
    await raw.connect();
    await raw.ping();
  } catch (error) {
    raw.disconnect();
    throw new SkipError(`Redis not reachable at ${maskUrl(url)}: ${(lastError ?? error)?.message ?? error}`);
  }
  return raw;
}

async function loadScenarios() {
  const dir = new URL('./scenarios/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.mjs') && (!onlyScenario || f === onlyScenario)).sort();
  const scenarios = [];
  for (const file of files) {
    const fallbackName = file.replace(/\.mjs$/, '');
    try {
      const mod = await import(new URL(file, dir).href);
      const scenario = mod.default ?? mod;
      if (typeof scenario.run !== 'function') throw new Error('does not export run(ctx)');
      scenarios.push({
        file,
        name: scenario.name ?? fallbackName,
        run: scenario.run,
        description: scenario.description,
      });
    } catch (error) {
      // A scenario whose own imports fail (e.g. a bench dependency not installed) is skipped, not fatal.
      scenarios.push({
        file,
        name: fallbackName,
        loadError: `cannot load scenarios/${file}: ${error?.message ?? error}`,
      });
    }
  }
  return scenarios.filter((s) => onlyScenario || filters.length === 0 || filters.some((f) => s.name.includes(f)));
}

/** Runs `scenario` in a child process of its own (see the top of this file); resolves with its report. */
async function runIsolated(scenario, dir) {
  const path = join(dir, `${scenario.file}.json`);
  const code = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_ONLY_SCENARIO: scenario.file, BENCH_REPORT_PATH: path },
    });
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(signal ?? exitCode));
  });
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    // The child died before it wrote a report (a crash, out of memory): the scenario is an error.
    const reason = `its process ended (${code}) without a report`;
    log(`error: ${reason}`);
    return { name: scenario.name, description: scenario.description, status: 'error', reason };
  }
}

/** A child process of {@link runIsolated}: runs its one scenario and writes the report where the parent reads it. */
async function child() {
  const [scenario] = await loadScenarios();
  const report = scenario
    ? await runScenario(scenario)
    : { name: onlyScenario, status: 'error', reason: `no scenario file ${onlyScenario}` };
  await writeFile(reportPath, JSON.stringify(report));
  // Scenarios close what they open; should a handle leak anyway, do not hang the run.
  setTimeout(() => process.exit(), 2000).unref();
}

/** Runs one scenario in this process and answers its report (what results.json holds for it). */
async function runScenario(scenario) {
  const t0 = process.hrtime.bigint();
  const report = { name: scenario.name, description: scenario.description };
  try {
    if (scenario.loadError) throw new SkipError(scenario.loadError);
    const ctx = {
      rounds,
      roundMs,
      log,
      lib,
      redisUrl: redis,
      rawRedis,
      skip: (reason) => new SkipError(reason),
      // `opts` may shorten `rounds` / `roundMs` for a scenario that measures many points.
      compare: (spec, opts = {}) => compare(spec, { rounds, roundMs, log, ...opts }),
    };
    const result = await scenario.run(ctx);
    if (result?.info === true && typeof result.text === 'string') {
      // Informational: figures to read (curves, tables), nothing to pass or fail.
      Object.assign(report, { status: 'ok', ...result });
      log(result.text);
    } else if (result && Array.isArray(result.checks)) {
      // Count scenarios (e.g. stampede executions) report exact figures against an expected value; measured ones
      // (e.g. memory per entry) a figure against a bound (`max`).
      const targets = result.checks.map((c) => ({
        ...c,
        pass: c.max === undefined ? c.value === c.expected : c.value <= c.max,
      }));
      Object.assign(report, { status: 'ok', targets });
      for (const t of targets) {
        const wanted = t.max === undefined ? `expected ${t.expected}` : `target <= ${t.max}`;
        log(`  ${t.label}: ${t.value} (${wanted})${t.detail ? ` — ${t.detail}` : ''}  ${t.pass ? 'PASS' : 'FAIL'}`);
      }
    } else {
      if (!result || !Array.isArray(result.contenders)) throw new Error('run(ctx) must return ctx.compare(...)');
      Object.assign(report, { status: 'ok', ...result });
      log(formatResult(result));
    }
  } catch (error) {
    if (error instanceof SkipError) {
      Object.assign(report, { status: 'skipped', reason: error.message });
      log(`skipped: ${error.message}`);
    } else {
      Object.assign(report, { status: 'error', reason: error?.stack ?? String(error) });
      log(`error: ${error?.stack ?? error}`);
    }
  }
  report.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return report;
}

async function main() {
  const startedAt = new Date();
  const cpu = cpus()[0]?.model ?? 'unknown';
  log(
    `nestjs-cashews bench — node ${process.version}, ${availableParallelism()} cpu (${cpu}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(`${rounds} interleaved rounds of ~${roundMs}ms per contender; ratios are medians of per-round ratios.`);

  const scenarios = await loadScenarios();
  if (scenarios.length === 0) log(`no scenario matches ${filters.join(', ')}`);
  const reports = [];
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-cashews-bench-'));
  try {
    for (const scenario of scenarios) {
      log();
      log(`== ${scenario.name}${scenario.description ? ` — ${scenario.description}` : ''}`);
      reports.push(await runIsolated(scenario, dir));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const failed = reports.filter((r) => r.status === 'error' || (r.targets ?? []).some((t) => !t.pass));
  const summary = reports.map((r) => {
    const verdict =
      r.status !== 'ok'
        ? r.status.toUpperCase()
        : r.info
          ? 'INFO'
          : (r.targets ?? []).every((t) => t.pass)
            ? 'PASS'
            : 'FAIL';
    return { name: r.name, verdict };
  });
  log();
  log('== summary');
  for (const s of summary) log(`${s.verdict.padEnd(8)} ${s.name}`);

  const results = {
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    cpuModel: cpu,
    loadavg: loadavg(),
    redisUrl: maskUrl(redisUrl),
    rounds,
    roundMs,
    pass: failed.length === 0,
    summary,
    scenarios: reports,
  };
  const file = new URL('./results.json', pathToFileURL(here));
  await writeFile(file, JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${fileURLToPath(file)} (${results.seconds.toFixed(1)}s)`);
  process.exitCode = failed.length ? 1 : 0;
  // Scenarios close what they open; should a handle leak anyway, do not hang `npm run bench`.
  setTimeout(() => process.exit(), 2000).unref();
}

(onlyScenario ? child() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
