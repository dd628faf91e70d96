#!/usr/bin/env node
/**
 * Builds the `lakehouse` CLI: bundles lib/cli/main.ts and everything it imports (commander,
 * cli-progress, cli-table3, tinyglobby, …) into one ES module, dist/cli/lakehouse.mjs, so the CLI
 * starts without a TypeScript loader and needs no node_modules at run time. Only Node's built-in
 * modules stay external. Runs at `npm install` / `npm ci` (the `prepare` script) and `npm pack`;
 * bin/lakehouse.js runs it too when, in a checkout, the bundle is missing or older than its sources.
 *
 *   node scripts/build-cli.mjs [--quiet] [--prepare]
 *
 * --prepare (the `prepare` script): without esbuild (an install that omitted devDependencies) warn
 * and succeed rather than fail the install; bin/lakehouse.js then says how to build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'cli');
const outFile = path.join(outDir, 'lakehouse.mjs');

export async function buildCli({ quiet = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw Object.assign(new Error('esbuild is not installed: run `npm install` (it is a devDependency) to build the CLI'), { code: 'NO_ESBUILD' });
  }
  const started = performance.now();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  fs.mkdirSync(outDir, { recursive: true });
  // Build next to the target and rename: several processes may build at once (tests run the CLI in parallel).
  const tmp = `${outFile}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'lib/cli/entry.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    define: { __LAKEHOUSE_VERSION__: JSON.stringify(pkg.version) },
    // Bundled CommonJS packages (commander, cli-progress, …) call require() for Node built-ins.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __lakehouseCreateRequire } from 'node:module'; const require = __lakehouseCreateRequire(import.meta.url);" },
  });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, outFile);
  // dist/cli is also the `lakehouse` npm package (`npm run pack:cli`): the bundle is its bin and it
  // depends on nothing, so it installs offline and runs anywhere with Node 20
  const manifest = {
    name: 'lakehouse',
    version: pkg.version,
    description: 'Command-line client of the Lakehouse HTTP API: upload CSV files, wait for ingest, run SQL.',
    type: 'module',
    bin: { lakehouse: 'lakehouse.mjs' },
    files: ['lakehouse.mjs', 'README.md'],
    engines: pkg.engines,
  };
  const manifestTmp = path.join(outDir, `package.json.${process.pid}.tmp`);
  fs.writeFileSync(manifestTmp, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(manifestTmp, path.join(outDir, 'package.json'));
  fs.copyFileSync(path.join(root, 'README.md'), path.join(outDir, 'README.md'));
  // The sources this bundle was built from, for bin/lakehouse.js's staleness check in a checkout.
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => path.relative(root, path.resolve(root, p)))
    .filter((p) => !p.split(path.sep).includes('node_modules'))
    .concat('package.json');
  const inputsTmp = `${outFile}.inputs.${process.pid}.tmp`;
  fs.writeFileSync(inputsTmp, JSON.stringify({ inputs }, null, 1) + '\n');
  fs.renameSync(inputsTmp, path.join(outDir, 'inputs.json'));
  if (!quiet) {
    const kb = Math.round(fs.statSync(outFile).size / 1024);
    process.stderr.write(`built ${path.relative(root, outFile)} (${kb} KB) in ${Math.round(performance.now() - started)} ms\n`);
  }
  return outFile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCli({ quiet: process.argv.includes('--quiet') }).catch((e) => {
    process.stderr.write(`build-cli: ${e.message}\n`);
    process.exit(e.code === 'NO_ESBUILD' && process.argv.includes('--prepare') ? 0 : 1);
  });
}
