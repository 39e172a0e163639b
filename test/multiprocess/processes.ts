/**
 * Helpers of the multi-process suites: a throw-away build of lib/ (child processes run through tsx,
 * which emits no decorator metadata, so they load the compiled library), and child processes that are
 * bounded in time and always killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ERROR_MARK, RESULT_MARK } from '../fixtures/worker-protocol.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(process.cwd());
export const WORKER = join(ROOT, 'test', 'fixtures', 'mp-worker.ts');

export interface LibBuild {
  /** Absolute path of the built `index.js`. */
  entry: string;
  remove(): void;
}

/**
 * Transpiles lib/ file by file (TypeScript's transpileModule, which emits decorator metadata) into a temporary
 * directory. The sources are written for isolated transpiling (`isolatedModules`), so this is what tsc emits,
 * without a type check per suite: `npm run typecheck` does that once, and a full tsc run here cost each
 * multi-process suite tens of seconds of CPU on a 2-core machine.
 */
export async function buildLib(): Promise<LibBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'cashews-mp-'));
  const out = join(dir, 'lib');
  mkdirSync(out);
  // The build resolves @nestjs/*, ioredis, ... from the repository's node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.build.json could not be read');
  // ES modules, as tsc emits them under the package's "type": "module" (transpileModule alone cannot tell).
  const options = {
    ...config.options,
    module: ts.ModuleKind.ES2022,
    declaration: false,
    sourceMap: false,
    inlineSourceMap: false,
  };
  const libRoot = join(ROOT, 'lib');
  for (const file of config.fileNames) {
    if (file.endsWith('.d.ts')) continue; // declarations only (lib/backends/cluster-key-slot.d.ts): nothing to emit
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    const target = join(out, relative(libRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  const entry = join(out, 'index.js');
  if (!existsSync(entry)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the build did not emit ${entry}`);
  }
  return { entry, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WorkerResult {
  code: number | null;
  result?: Record<string, unknown>;
  error?: string;
  stdout: string;
  stderr: string;
}

export interface Worker {
  child: ChildProcess;
  done: Promise<WorkerResult>;
}

const live = new Set<ChildProcess>();

/** Starts one worker (`script`, default mp-worker.ts); `done` resolves when it exits (killed after `timeoutMs`). */
export function startWorker(env: Record<string, string>, timeoutMs = 45_000, script = WORKER): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<WorkerResult>((resolveDone) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(child);
      const resultLine = stdout.split('\n').find((line) => line.startsWith(RESULT_MARK));
      const errorLine = stdout.split(`\n${ERROR_MARK}`)[1];
      resolveDone({
        code,
        result: resultLine ? (JSON.parse(resultLine.slice(RESULT_MARK.length)) as Record<string, unknown>) : undefined,
        error: errorLine ?? (stdout.startsWith(ERROR_MARK) ? stdout.slice(ERROR_MARK.length) : undefined),
        stdout,
        stderr,
      });
    });
  });
  return { child, done };
}

/** Kills every worker still running (afterEach/afterAll). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Asserts-friendly summary of a failed worker. */
export function describeFailure(result: WorkerResult): string {
  return `worker exited with ${result.code}: ${result.error ?? ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}
