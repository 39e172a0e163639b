/**
 * Jest runs Nest 12 (ESM-only) in ESM mode: NODE_OPTIONS=--experimental-vm-modules is set by `npm test`, with
 * --max-semi-space-size=64 (MB): every test file loads Nest, ioredis and lib/ afresh in its own module registry, and
 * the larger young generation spends less CPU collecting (about 6% of the whole run on a 2-core machine).
 *
 * Four projects, in parallel workers:
 * - unit: lib/**\/*.spec.ts and test/**\/*.spec.ts — no Redis, no global setup (`jest lib/keys` starts nothing);
 * - redis: test/**\/*.e2e-spec.ts — global setup starts one private redis-server per worker (test/support/global-setup.ts);
 *   the Sentinel files (test/sentinel/) are here too: each starts its own master, replica and Sentinel from the same
 *   redis-server binary (test/support/sentinel.ts), and fails rather than skips under CI=true without it;
 * - multi-process: the e2e files under a `multiprocess` folder or name (child processes; same Redis setup);
 * - cluster: the e2e files that mention the cluster helpers (CLUSTER below); each worker gets its own private
 *   3-master cluster, started on demand by test/support/cluster-worker-setup.ts, so only this project starts one.
 * A shared Redis (`REDIS_URL`, or 127.0.0.1:6379 when no redis-server is on PATH) means one worker.
 *
 * Suites live in `*.e2e.ts` modules, and a folder's `*.e2e-spec.ts` file imports them: every Jest file loads Nest,
 * ioredis and lib/ again (about 1.5 s of CPU each), so one file per group of suites halves the CPU of a run. A
 * group's project is decided by what its suites contain (`suiteText`), and test/support/sequencer.js starts the
 * largest groups first.
 */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const CLUSTER = /\b(describeCluster|clusterUrl|clusterNodes|rawCluster|flushCluster)\b/;

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return dir !== '';
    } catch {
      return false;
    }
  });
}

function e2eFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'compat' || entry.name === 'node_modules' ? [] : e2eFiles(path);
    return entry.name.endsWith('.e2e-spec.ts') ? [relative(root, path)] : [];
  });
}

/** The suite modules a group file imports (`import './x.e2e.js'`), as paths relative to the repository. */
export function suiteModules(file) {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^import '(\.{1,2}\/[^']+\.e2e)\.js';$/gm)].map((match) =>
    relative(root, join(root, dirname(file), `${match[1]}.ts`)),
  );
}

/** A Jest file's own text and that of the suites it imports. */
export function suiteText(file) {
  return [file, ...suiteModules(file)].map((path) => readFileSync(join(root, path), 'utf8')).join('\n');
}

const e2e = e2eFiles(join(root, 'test'));
const clusterFiles = e2e.filter((file) => CLUSTER.test(suiteText(file)));
const multiProcessFiles = e2e.filter((file) => /multiprocess/.test(file) && !clusterFiles.includes(file));
const escape = (file) => `<rootDir>/${file}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';

// test/compat/app holds the generated consumer projects' own tests (run there by test/compat/run.sh).
const ignore = ['/node_modules/', '<rootDir>/test/compat/'];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testPathIgnorePatterns: ignore,
};

const withRedis = {
  ...common,
  roots: ['<rootDir>/test'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

const sharedRedis = Boolean(process.env.REDIS_URL) || !onPath('redis-server');

export default {
  // Tests wait on Redis, child processes, Sentinel and timers a good part of the time: three workers per core keep
  // the CPU busy (2 cores: 4 workers 169 s, 6 workers 139 s, 8 workers 147 s once the CPU is saturated). At most 8:
  // each worker gets its own redis-server, and a cluster of 3 more once it runs a cluster file.
  maxWorkers: sharedRedis ? 1 : Math.min(8, Math.max(2, availableParallelism() * 3)),
  testTimeout: 30000,
  testSequencer: '<rootDir>/test/support/sequencer.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/lib', '<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...withRedis,
      displayName: 'redis',
      testMatch: ['**/*.e2e-spec.ts'],
      testPathIgnorePatterns: [...ignore, ...clusterFiles.map(escape), ...multiProcessFiles.map(escape)],
    },
    {
      ...withRedis,
      displayName: 'multi-process',
      testMatch: multiProcessFiles.map((file) => `<rootDir>/${file}`),
    },
    {
      ...withRedis,
      displayName: 'cluster',
      testMatch: clusterFiles.map((file) => `<rootDir>/${file}`),
      setupFiles: ['<rootDir>/test/support/cluster-worker-setup.ts'],
    },
  ],
};
