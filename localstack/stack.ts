/**
 * Starts the real `npm start` stack as a child process (its own process group) on free loopback
 * ports with a private data directory, waits until it is ready, and stops it the way Ctrl-C
 * does. Used by the integration tests, `npm run smoke` and `npm run bench`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopGroup } from './process-group.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Stack {
  api: string;
  s3: string;
  lambda: string;
  bucket: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

export interface StackOptions {
  env?: Record<string, string>;
  dataDir?: string;
  timeoutMs?: number;
  /** Echo the stack's output (smoke/bench). */
  echo?: boolean;
  /**
   * Every HTTP response checked against openapi.yaml by the server itself; a mismatch becomes
   * `500 response_invalid` (LAKEHOUSE_VALIDATE_RESPONSES). Default: on under vitest unless the
   * variable is set already, off otherwise (smoke, bench; `npm start` does not use this module).
   */
  validateResponses?: boolean;
}

function validation(on: boolean | undefined): Record<string, string> {
  if (on !== undefined) return { LAKEHOUSE_VALIDATE_RESPONSES: on ? '1' : '' };
  const inherited = process.env.LAKEHOUSE_VALIDATE_RESPONSES;
  return inherited === undefined && process.env.VITEST !== undefined ? { LAKEHOUSE_VALIDATE_RESPONSES: '1' } : {};
}

let built = false;

/** `npm start`'s launcher and the web console, built as `npm start` builds them (prestart), once per process. */
function buildStart(): string {
  if (!built) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build-start.mjs')], { cwd: root, stdio: 'inherit' });
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build-console.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
    built = true;
  }
  return path.join(root, 'dist', 'start.mjs');
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const [http, s3, lambda] = [await freePort(), await freePort(), await freePort()];
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-stack-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LAKEHOUSE_HTTP_PORT: String(http),
    LAKEHOUSE_S3_PORT: String(s3),
    LAKEHOUSE_LAMBDA_PORT: String(lambda),
    LAKEHOUSE_DATA_DIR: dataDir,
    LAKEHOUSE_BUCKET: 'lakehouse',
    ...validation(opts.validateResponses),
    ...(opts.env ?? {}),
  };
  delete env.S3_ENDPOINT;
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', buildStart()], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const onData = (c: Buffer) => {
    out += c.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
    if (opts.echo) process.stderr.write(c);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const stack: Stack = {
    api: `http://127.0.0.1:${http}`,
    s3: `http://127.0.0.1:${s3}`,
    lambda: `http://127.0.0.1:${lambda}`,
    bucket: 'lakehouse',
    dataDir,
    child,
    output: () => out,
    // SIGINT is what Ctrl-C sends to the foreground process group
    stop: () => stopGroup(child, 'SIGINT', 15_000),
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited early (${child.exitCode}):\n${out.slice(-3000)}`);
    if (/Lakehouse is running/.test(out)) {
      try {
        const r = await fetch(`${stack.api}/health`);
        if (r.ok) return stack;
      } catch {
        /* not yet */
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stack.stop();
  throw new Error(`npm start did not become ready:\n${out.slice(-3000)}`);
}

/**
 * Kills every process of a stack at once with SIGKILL — start.ts, serverless-offline and its
 * workers, which run in process groups of their own — as a crash or `kill -9` would (tests only).
 * Found by the stack's private data directory in their environment.
 */
export async function killStackHard(stack: Stack): Promise<void> {
  const marker = `LAKEHOUSE_DATA_DIR=${stack.dataDir}`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      /* gone, or not ours */
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && pids.some((pid) => fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '))) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls GET /uploads/{id} until ready or failed. */
export async function waitForUpload(api: string, uploadId: string, timeoutMs = 120_000, headers: Record<string, string> = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${api}/uploads/${uploadId}`, { headers });
    const body = (await r.json()) as { state: string; [k: string]: unknown };
    if (body.state === 'ready' || body.state === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`upload ${uploadId} still ${body.state} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
