/**
 * `npm run bench:small` — many small uploads through the real local stack (`npm start`'s launcher:
 * s3rver + serverless-offline + the S3 event bridge), as a user's bulk upload sends them.
 *
 *   npm run bench:small [-- --files 300] [--jobs 8] [--via api|cli] [--out bench/small-results.json]
 *
 * Generates `files` CSVs of 2–50 KB (fixed seed) in a temp dir (removed afterwards), one dataset
 * each, and uploads them `jobs` at a time:
 *   --via api (default): presign → PUT → GET /uploads/{id}?wait=20 until ready (what the CLI does; --poll cli|N:
 *   the old back-off polling, or a fixed interval in ms), each phase timed;
 *   --via cli: `lakehouse upload <dir> --jobs N` (the bundled CLI, its own polling back-off).
 * Reports files/s and, per file, the medians of: presign, PUT, PUT → ready (seen by polling), the
 * ingest handler's duration (serverless-offline's "Duration" log line), the job's own phases
 * (timings_ms); and the CPU time the stack's processes spent per file.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startStack, type Stack } from '../localstack/stack.js';
import { mulberry32 } from './gen-workers.js';
import { type Json, repoRoot, benchArgs, writeResults } from './bench-common.js';

const root = repoRoot;
const values = benchArgs({
  files: { type: 'string', default: '300' },
  jobs: { type: 'string', default: '8' },
  via: { type: 'string', default: 'api' },
  poll: { type: 'string', default: 'wait' },
  out: { type: 'string', default: 'bench/small-results.json' },
  env: { type: 'string', multiple: true, default: [] },
});
const FILES = Number(values.files);
const JOBS = Number(values.jobs);
/** Polling: 'wait' = GET ?wait=20 (the CLI since 0.5.0, no pause); 'cli' = the CLI's old back-off (100 ms × 1.5 up to 1 s); or a fixed interval in ms. */
const nextPoll = (prev: number) => (values.poll === 'cli' ? (prev === 0 ? 100 : Math.min(1000, prev * 1.5)) : values.poll === 'wait' ? 0 : Number(values.poll));

const say = (s: string) => process.stderr.write(`[bench:small] ${s}\n`);
const median = (v: number[]) => {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const p90 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(v.length * 0.9))]!;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** `n` CSVs of 2–50 KB: id, name, city, amount, day, flag (fixed seed). */
function generate(dir: string, n: number): string[] {
  const rnd = mulberry32(7);
  const cities = ['Lyon', 'Porto', 'Graz', 'Turku', 'Cork', 'Brno', 'Split', 'Kaunas'];
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const target = 2048 + Math.floor(rnd() * 48 * 1024);
    const lines = ['id,name,city,amount,day,flag'];
    let bytes = lines[0]!.length + 1;
    for (let r = 1; bytes < target; r++) {
      const d = new Date(Date.UTC(2025, 0, 1) + Math.floor(rnd() * 365) * 86400000).toISOString().slice(0, 10);
      const line = `${r},item_${Math.floor(rnd() * 1e6)},${cities[Math.floor(rnd() * cities.length)]},${(rnd() * 1000).toFixed(2)},${d},${rnd() < 0.5}`;
      lines.push(line);
      bytes += line.length + 1;
    }
    const f = path.join(dir, `small_${String(i).padStart(3, '0')}.csv`);
    fs.writeFileSync(f, lines.join('\n') + '\n');
    files.push(f);
  }
  return files;
}

let hiccups = 0;
/** fetch, retried on a dropped connection as the CLI's client does (lib/cli/main.ts waitFor), counted. */
async function fetchRetry(url: string, init?: RequestInit): Promise<Response> {
  for (let n = 1; ; n++) {
    try {
      return await fetch(url, init);
    } catch (e) {
      hiccups++;
      if (n >= 5) throw e;
      say(`retrying after ${(e as Error).message} (${String((e as { cause?: unknown }).cause ?? '')})`);
      await new Promise((r) => setTimeout(r, 250 * n));
    }
  }
}

interface One {
  presign: number;
  put: number;
  putEnd: number;
  readySeen: number;
  state: string;
  record?: Json;
}

async function viaApi(stack: Stack, files: string[]): Promise<One[]> {
  const queue = [...files];
  const out: One[] = [];
  const lane = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const body = fs.readFileSync(f);
      let t = performance.now();
      const pr = await fetchRetry(`${stack.api}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: path.basename(f, '.csv'), size: body.length, filename: path.basename(f) }),
      });
      const p = (await pr.json()) as Json;
      if (!pr.ok || typeof p.url !== 'string') throw new Error(`presign: HTTP ${pr.status} ${JSON.stringify(p).slice(0, 500)}`);
      const presign = performance.now() - t;
      t = performance.now();
      const put = await fetchRetry(p.url, { method: 'PUT', body, headers: p.headers ?? {} });
      await put.arrayBuffer();
      if (!put.ok) throw new Error(`PUT: HTTP ${put.status}`);
      const putMs = performance.now() - t;
      const putEnd = Date.now();
      let rec: Json;
      for (let delay = nextPoll(0); ; delay = nextPoll(delay)) {
        rec = (await (await fetchRetry(`${stack.api}/uploads/${p.upload_id}${values.poll === 'wait' ? '?wait=20' : ''}`)).json()) as Json;
        if (rec.state === 'ready' || rec.state === 'failed') break;
        if (values.poll !== 'wait') await new Promise((r) => setTimeout(r, delay));
      }
      out.push({ presign, put: putMs, putEnd, readySeen: Date.now(), state: rec.state, record: rec });
    }
  };
  await Promise.all(Array.from({ length: JOBS }, lane));
  return out;
}

async function viaCli(stack: Stack, dir: string): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(root, 'bin/lakehouse.js'), 'upload', dir, '--jobs', String(JOBS), '--api', stack.api], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * CPU seconds (user + system) used so far by the stack's processes — start.ts (s3rver, the event
 * bridge) and serverless-offline with its worker threads — found by the stack's data directory in
 * their environment. Exited processes are not counted, so read it while the stack runs.
 */
function stackCpu(stack: Stack): Record<string, number> {
  const marker = `LAKEHOUSE_DATA_DIR=${stack.dataDir}`;
  const tick = 100; // USER_HZ on Linux
  const out: Record<string, number> = {};
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const who = cmd.some((c) => c.endsWith('start.mjs')) ? 'start (s3rver, bridge)' : cmd.some((c) => /sls|osls/.test(c)) ? 'serverless-offline' : path.basename(cmd[0] ?? '?');
      out[who] = (out[who] ?? 0) + (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

/** serverless-offline's per-invocation lines: `(λ: ingest) RequestId: … Duration: 123.45 ms`. */
function durations(output: string, fn: string): number[] {
  const re = new RegExp(`\\(λ: ${fn}\\) RequestId: \\S+\\s+Duration: ([\\d.]+) ms`, 'g');
  return [...output.matchAll(re)].map((m) => Number(m[1]));
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-small-'));
  const files = generate(dir, FILES);
  const sizes = files.map((f) => fs.statSync(f).size);
  say(`${FILES} files, ${(sizes.reduce((a, b) => a + b, 0) / 1024).toFixed(0)} KiB (${Math.min(...sizes)}–${Math.max(...sizes)} B), ${JOBS} at a time, via ${values.via}`);
  const extraEnv = Object.fromEntries((values.env as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const stack = await startStack({ dataDir: path.join(dir, 'stack'), env: { LAKEHOUSE_LOG_LEVEL: 'info', ...extraEnv } });
  let result: Json;
  try {
    // one warm-up file so the functions' first bundle load is not in the figures (as after `npm start`)
    const warmDir = path.join(dir, 'warm');
    fs.mkdirSync(warmDir);
    const warmFile = path.join(warmDir, 'warmup.csv');
    fs.writeFileSync(warmFile, 'a,b\n1,x\n');
    await viaApi(stack, [warmFile]);
    const before = stack.output().length;
    const cpu0 = stackCpu(stack);
    const t0 = performance.now();
    let per: One[] = [];
    if (values.via === 'cli') await viaCli(stack, dir);
    else per = await viaApi(stack, files);
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = stackCpu(stack);
    const cpuPerFile = Object.fromEntries(Object.keys(cpu1).map((k) => [k, Math.round(((cpu1[k]! - (cpu0[k] ?? 0)) * 1000) / FILES)]));
    const log = stack.output().slice(before);
    const ingest = durations(log, 'ingest');
    const phases: Record<string, number[]> = {};
    for (const o of per) for (const [k, v] of Object.entries<number>(o.record?.timings_ms ?? {})) (phases[k] ??= []).push(v);
    const failed = per.filter((o) => o.state !== 'ready');
    result = {
      when: new Date().toISOString(),
      machine: { cpus: os.cpus().length, load: os.loadavg().map(r1) },
      files: FILES,
      jobs: JOBS,
      via: values.via,
      env: extraEnv,
      bytes: sizes.reduce((a, b) => a + b, 0),
      wall_s: r1(wall),
      files_per_s: Math.round((FILES / wall) * 100) / 100,
      failed: failed.length,
      ingest_invocations: ingest.length,
      medians_ms: {
        presign: r1(median(per.map((o) => o.presign))),
        put: r1(median(per.map((o) => o.put))),
        put_to_ready_seen: r1(median(per.map((o) => o.readySeen - o.putEnd))),
        ingest_handler: r1(median(ingest)),
        ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`job_${k}`, r1(median(v))])),
      },
      p90_ms: {
        put_to_ready_seen: r1(p90(per.map((o) => o.readySeen - o.putEnd))),
        ingest_handler: r1(p90(ingest)),
      },
      cpu_ms_per_file: cpuPerFile,
      dropped_connections_retried: hiccups,
      status_polls: (log.match(/\(λ: uploadStatus\)/g) ?? []).length,
    };
    if (failed.length) say(`failed: ${JSON.stringify(failed.slice(0, 3).map((o) => o.record?.error))}`);
  } catch (e) {
    say(`the stack's last output:\n${stack.output().slice(-4000)}`);
    throw e;
  } finally {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  writeResults(values.out!, result);
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench:small failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
