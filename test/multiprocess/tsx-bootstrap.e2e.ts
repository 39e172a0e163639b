/**
 * The library loaded from its TypeScript sources through tsx (esbuild, which emits no decorator metadata),
 * as `npm start` runs the sample app: CashewsModule must still bootstrap, which needs explicit @Inject()
 * tokens on the library's own providers. No Redis needed.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'tsx-bootstrap.ts');

function runFixture(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', FIXTURE],
      { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 30_000, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('library sources under tsx (no decorator metadata)', () => {
  it('CashewsModule bootstraps and @Cache on a provider runs the method once for two calls', async () => {
    const { code, stdout, stderr } = await runFixture();
    const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
    expect({ code, stderr: code === 0 ? '' : stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(line!.slice('@@RESULT '.length))).toEqual({ calls: 1 });
  }, 40_000);
});
