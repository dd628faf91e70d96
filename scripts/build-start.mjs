#!/usr/bin/env node
/**
 * Builds `npm start`'s launcher: bundles scripts/start.ts and the localstack/ modules it imports
 * into dist/start.mjs (packages from node_modules stay external), so the local stack starts with
 * plain Node — no TypeScript loader. `npm start` runs it first (`prestart`, ~0.1 s), so an edit
 * takes effect on the next start; the test stacks (localstack/stack.ts) run the same file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const startBundle = path.join(root, 'dist', 'start.mjs');

export async function buildStart() {
  const esbuild = await import('esbuild');
  fs.mkdirSync(path.dirname(startBundle), { recursive: true });
  // build next to the target and rename: several test workers may build at once
  const tmp = `${startBundle}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  await esbuild.build({
    entryPoints: [path.join(root, 'scripts', 'start.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  fs.renameSync(tmp, startBundle);
  return startBundle;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildStart().catch((e) => {
    process.stderr.write(`build-start: ${e.message}\n`);
    process.exit(1);
  });
}
