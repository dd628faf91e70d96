/** The G0 gate (`npm run smoke`) on a 50k-row file, run as a user runs it. */
import { it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';

it('npm run smoke passes on a 50k-row workers file', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--openssl-legacy-provider', '--import', 'tsx', path.resolve('scripts/smoke.ts'), '--rows', '50000'],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
  expect(out).toMatch(/G0 smoke: 7\/7 checks passed/);
  expect(code).toBe(0);
}, 300_000);
