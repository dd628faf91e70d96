/** A function built the way serverless-esbuild builds it (serverless.yml's options), in a temp dir away from the checkout. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { parse } from 'yaml';

export async function withBundledHandler<H>(name: string, fn: (handler: H) => Promise<void>): Promise<string[]> {
  const opts = parse(fs.readFileSync('serverless.yml', 'utf8')).custom.esbuild;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-bundle-`));
  try {
    const out = path.join(dir, 'functions', `${name}.cjs`);
    const result = await build({
      entryPoints: [`functions/${name}.ts`],
      outfile: out,
      bundle: opts.bundle,
      platform: opts.platform,
      format: opts.format,
      target: opts.target,
      loader: opts.loader,
      define: opts.define,
      external: opts.external,
      logLevel: 'silent',
    });
    await fn((createRequire(out)(out) as { handler: H }).handler);
    return result.warnings.map((w) => w.text);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
