/**
 * The test set-up itself (issue #10, item 6): Jest projects split so that only the cluster project starts a
 * cluster and the unit project starts nothing, and every Jest worker reads its own private Redis.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from './support/global-setup.js';
import { clusterSkipReason, redisSkipReason, redisUrl } from './support/redis.js';

interface ProjectConfig {
  displayName: string;
  globalSetup?: string;
  setupFiles?: string[];
  testMatch: string[];
  testPathIgnorePatterns?: string[];
}

const root = process.cwd();

interface JestConfigModule {
  default: { projects: ProjectConfig[] };
  suiteModules(file: string): string[];
  suiteText(file: string): string;
}

const config = (await import(join(root, 'jest.config.js'))) as JestConfigModule;

/** The files under test/ (the generated consumer projects of test/compat aside) whose name ends with `suffix`. */
function testFiles(suffix: string): string[] {
  return readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix) && !file.startsWith('compat'))
    .map((file) => join('test', file));
}

async function projects(): Promise<Map<string, ProjectConfig>> {
  return new Map(config.default.projects.map((project) => [project.displayName, project]));
}

describe('jest.config.js projects', () => {
  it('the unit project has no global setup; redis, multi-process and cluster share one', async () => {
    const byName = await projects();
    expect([...byName.keys()].sort()).toEqual(['cluster', 'multi-process', 'redis', 'unit']);
    expect(byName.get('unit')?.globalSetup).toBeUndefined();
    expect(byName.get('unit')?.testMatch).toEqual(['**/*.spec.ts']);
    for (const name of ['redis', 'multi-process', 'cluster']) {
      expect(byName.get(name)?.globalSetup).toBe('<rootDir>/test/support/global-setup.ts');
    }
  });

  it('only the cluster project fetches a cluster, and it holds exactly the files that use one', async () => {
    const byName = await projects();
    expect(byName.get('cluster')?.setupFiles).toEqual(['<rootDir>/test/support/cluster-worker-setup.ts']);
    expect(byName.get('redis')?.setupFiles).toBeUndefined();
    const clusterFiles = byName.get('cluster')!.testMatch.map((glob) => glob.replace('<rootDir>/', ''));
    expect(clusterFiles).toContain('test/backends/cluster.e2e-spec.ts');
    for (const file of clusterFiles) expect(config.suiteText(file)).toMatch(/describeCluster|clusterUrl/);
    // The redis project ignores them, so no file runs twice.
    const ignored = byName
      .get('redis')!
      .testPathIgnorePatterns!.map((pattern) => new RegExp(pattern.replace('<rootDir>', root)));
    for (const file of clusterFiles) expect(ignored.some((re) => re.test(join(root, file)))).toBe(true);
    expect(ignored.some((re) => re.test(join(root, 'test/core.e2e-spec.ts')))).toBe(false);
  });

  it('every suite module is imported by exactly one Jest file, so none runs twice and none is left out', () => {
    const suites = testFiles('.e2e.ts');
    const jestFiles = testFiles('.e2e-spec.ts');
    const imported = jestFiles.flatMap((file) => config.suiteModules(file));
    expect(suites.length).toBeGreaterThan(40);
    expect([...imported].sort()).toEqual([...suites].sort());
  });

  it('no suite module has hooks at its top level, which would run around every suite of its group file', () => {
    const offenders = testFiles('.e2e.ts').filter((file) =>
      /^(beforeAll|afterAll|beforeEach|afterEach)\(/m.test(readFileSync(join(root, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});

describe('redisUrl() per Jest worker', () => {
  const keys = [...Object.values(ENV), 'JEST_WORKER_ID'];
  const saved = new Map(keys.map((key) => [key, process.env[key]]));
  afterEach(() => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("answers this worker's private server, so files in two workers never flush the same database", () => {
    process.env[ENV.redisUrls] = 'redis://127.0.0.1:7001 redis://127.0.0.1:7002 redis://127.0.0.1:7003';
    process.env.JEST_WORKER_ID = '2';
    expect(redisUrl()).toBe('redis://127.0.0.1:7002');
    expect(redisUrl(5)).toBe('redis://127.0.0.1:7002/5');
    process.env.JEST_WORKER_ID = '3';
    expect(redisUrl(5)).toBe('redis://127.0.0.1:7003/5');
  });

  it('a shared REDIS_URL serves every worker', () => {
    process.env[ENV.redisUrls] = 'redis://127.0.0.1:6379';
    process.env.JEST_WORKER_ID = '4';
    expect(redisUrl(3)).toBe('redis://127.0.0.1:6379/3');
  });

  it('a worker without a server of its own fails instead of sharing one', () => {
    process.env[ENV.redisUrls] = 'redis://127.0.0.1:7001 redis://127.0.0.1:7002';
    process.env.JEST_WORKER_ID = '3';
    expect(() => redisUrl(1)).toThrow('Jest worker 3 has no private Redis: global setup started 2 (maxWorkers)');
  });

  it('without global setup a Redis suite fails loudly instead of skipping in silence', () => {
    for (const key of Object.values(ENV)) delete process.env[key];
    expect(redisUrl()).toBeUndefined();
    expect(() => redisSkipReason()).toThrow('global setup did not run for this test file');
    expect(() => clusterSkipReason()).toThrow('global setup did not run for this test file');
  });

  it('a cluster suite outside the cluster project fails loudly too', () => {
    process.env[ENV.clusterBroker] = 'http://127.0.0.1:1';
    delete process.env[ENV.clusterUrl];
    delete process.env[ENV.clusterSkip];
    expect(() => clusterSkipReason()).toThrow('outside the cluster project');
  });
});
