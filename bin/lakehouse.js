#!/usr/bin/env node
// The `lakehouse` CLI: runs dist/cli/lakehouse.mjs, the bundle scripts/build-cli.mjs makes from
// lib/cli (at `npm install` / `npm pack`; no TypeScript loader or node_modules needed at run time).
// In a checkout, a missing bundle, or one older than the sources it was built from, is rebuilt
// first (esbuild is a devDependency); in the npm package the bundle is always there.
import fs from 'node:fs';

const bundle = new URL('../dist/cli/lakehouse.mjs', import.meta.url);

function stale() {
  let built;
  try {
    built = fs.statSync(bundle).mtimeMs;
  } catch {
    return true;
  }
  let inputs;
  try {
    // only in a checkout: the package ships the bundle without its list of sources
    inputs = JSON.parse(fs.readFileSync(new URL('../dist/cli/inputs.json', import.meta.url), 'utf8')).inputs;
  } catch {
    return false;
  }
  const root = new URL('../', import.meta.url);
  for (const p of inputs) {
    try {
      if (fs.statSync(new URL(p, root)).mtimeMs > built) return true;
    } catch {
      return true; // a source was removed
    }
  }
  return false;
}

if (stale()) {
  let build;
  try {
    ({ buildCli: build } = await import('../scripts/build-cli.mjs'));
  } catch {
    build = undefined;
  }
  try {
    if (!build) throw new Error('dist/cli/lakehouse.mjs is missing and scripts/build-cli.mjs is not here');
    await build({ quiet: true });
  } catch (e) {
    if (!fs.existsSync(bundle)) {
      process.stderr.write(`lakehouse: the CLI is not built (${e.message}). Run \`npm install\` or \`node scripts/build-cli.mjs\` in the repository.\n`);
      process.exit(2);
    }
    process.stderr.write(`lakehouse: warning: could not rebuild the CLI from lib/cli (${e.message}); running the existing build\n`);
  }
}

const { main } = await import(bundle.href);
process.exitCode = await main(process.argv);
