/**
 * `lakehouse` as a package (`npm run pack:cli`): scripts/build-cli.mjs makes dist/cli a package of
 * its own — the bundled CLI as its bin, a README, and no dependencies (the bundle carries
 * commander, cli-progress, …) — so `npm pack ./dist/cli` gives a tarball that `npm install`
 * installs offline into any project, with no tsx, dev dependencies or server dependencies.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = path.resolve('.');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
let tmp: string;
let tarball: string;
let consumer: string;

// no loader flags, no NODE_PATH: only what the package carries
const env = { ...process.env, NODE_OPTIONS: '', NODE_PATH: '', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-package-'));
  const packDir = path.join(tmp, 'pack');
  fs.mkdirSync(packDir);
  await exec(process.execPath, ['scripts/build-cli.mjs', '--quiet'], { cwd: root, env });
  await exec('npm', ['pack', './dist/cli', '--pack-destination', packDir], { cwd: root, env, maxBuffer: 16 * 1024 * 1024 });
  const [tgz] = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  tarball = path.join(packDir, tgz!);
  consumer = path.join(tmp, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // a real install, offline: the package depends on nothing
  await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: consumer, env, maxBuffer: 16 * 1024 * 1024 });
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the lakehouse package', () => {
  it('npm pack ./dist/cli: the tarball holds the bundled CLI and the README, and depends on nothing', async () => {
    const { stdout } = await exec('tar', ['tzf', tarball]);
    const files = stdout.trim().split('\n').sort();
    expect(files).toEqual(['package/README.md', 'package/lakehouse.mjs', 'package/package.json']);
    const manifest = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'lakehouse', 'package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ lakehouse: 'lakehouse.mjs' });
    expect(manifest.dependencies ?? {}).toEqual({});
    // the bundle imports nothing but Node's built-ins
    const bundle = fs.readFileSync(path.join(consumer, 'node_modules', 'lakehouse', 'lakehouse.mjs'), 'utf8');
    const specifiers = [...bundle.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']((?:@[\w.-]+\/)?[\w.-]+(?:\/[\w./-]*)?)["']/g)].map((m) => m[1]!);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))).toEqual([]);
  });

  it('npx lakehouse --help and --version in a project that has only the package', async () => {
    const help = await exec('npx', ['--offline', 'lakehouse', '--help'], { cwd: consumer, env });
    expect(help.stdout).toMatch(/^Usage: lakehouse \[options\] \[command\]/);
    expect(help.stdout).toMatch(/upload \[options\] <paths\.\.\.>/);
    const version = await exec('npx', ['--offline', 'lakehouse', '--version'], { cwd: consumer, env });
    expect(version.stdout.trim()).toBe(pkg.version);
  }, 30_000);

  it('the bin by path from another directory; a clear error when the API is not there', async () => {
    const bin = path.join(consumer, 'node_modules', '.bin', 'lakehouse');
    const v = await exec(process.execPath, [bin, '--version'], { cwd: os.tmpdir(), env });
    expect(v.stdout.trim()).toBe(pkg.version);
    const down = await exec(process.execPath, [bin, 'ls', '--api', 'http://127.0.0.1:9'], { cwd: os.tmpdir(), env }).catch((e: { code: number; stderr: string }) => e);
    expect((down as { code: number }).code).toBe(3);
    expect((down as { stderr: string }).stderr).toMatch(/cannot reach the Lakehouse API at http:\/\/127\.0\.0\.1:9/);
  });
});
