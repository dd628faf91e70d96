#!/usr/bin/env node
/**
 * Builds the web console (GET /): bundles console/main.ts (CodeMirror, uPlot and the console's own
 * modules) and its CSS with esbuild, inlines both into console/index.html, and writes
 *   dist/console/index.html    the page, for a look
 *   dist/console/console.json  {html, script_sha256, style_sha256, nonce_placeholder}: what
 *                              lib/console/page.ts serves (inlined into the Lambda bundle) and the
 *                              hashes its CSP allows.
 * Runs at install (`prepare`), before `npm start` (`prestart`) and before every test stack
 * (localstack/stack.ts); ~0.5 s.
 *
 *   node scripts/build-console.mjs [--quiet] [--prepare]
 *
 * --prepare: without esbuild (devDependencies omitted) warn and succeed rather than fail the install.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'console');

/**
 * Replaced per response by lib/console/page.ts: the nonce that lets CodeMirror add its <style>
 * element (EditorView.cspNonce; the script reads it from its own tag). The script is allowed by hash.
 */
export const NONCE = '__LAKEHOUSE_CSP_NONCE__';

const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest('base64');

/** Text that would end or confuse an inline element early. */
function checkInline(text, tag) {
  const bad = [`</${tag}`, '<!--', '<script'].find((s) => text.toLowerCase().includes(s));
  if (bad) throw new Error(`the ${tag} bundle contains "${bad}", which cannot be inlined`);
}

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export async function buildConsole({ quiet = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw Object.assign(new Error('esbuild is not installed: run `npm install` to build the console'), { code: 'NO_ESBUILD' });
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'console', 'main.ts')],
    outdir: path.join(outDir, 'assets'),
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    legalComments: 'none',
    logLevel: 'silent',
    define: { __LAKEHOUSE_VERSION__: JSON.stringify(pkg.version) },
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  checkInline(js, 'script');
  checkInline(css, 'style');
  const template = fs.readFileSync(path.join(root, 'console', 'index.html'), 'utf8');
  const parts = template.split(/<!--(STYLE|SCRIPT)-->/);
  if (parts.length !== 5) throw new Error('console/index.html must hold <!--STYLE--> and <!--SCRIPT--> once each');
  const html = parts.map((p) => (p === 'STYLE' ? `<style>${css}</style>` : p === 'SCRIPT' ? `<script nonce="${NONCE}">${js}</script>` : p)).join('');
  fs.mkdirSync(outDir, { recursive: true });
  writeAtomic(path.join(outDir, 'index.html'), html);
  writeAtomic(path.join(outDir, 'console.json'), JSON.stringify({ html, script_sha256: sha256(js), style_sha256: sha256(css), nonce_placeholder: NONCE }));
  const gzip = zlib.gzipSync(html, { level: 9 }).length;
  if (!quiet) process.stdout.write(`build-console: dist/console/index.html ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, ${(gzip / 1024).toFixed(0)} KiB gzipped\n`);
  return { html, gzipBytes: gzip };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  buildConsole({ quiet: args.includes('--quiet') }).catch((e) => {
    if (args.includes('--prepare') && e.code === 'NO_ESBUILD') {
      process.stderr.write(`build-console: ${e.message} (skipped)\n`);
      return;
    }
    process.stderr.write(`build-console: ${e.message}\n`);
    process.exit(1);
  });
}
