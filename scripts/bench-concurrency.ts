/**
 * `npm run bench:concurrency` — POST /sql under concurrent load against the real local stack
 * (`npm start`'s launcher: s3rver + serverless-offline), one 500k-row dataset. Not part of `npm test`.
 *
 *   npm run bench:concurrency [-- --rows 500k] [--levels 1:50,4:200,32:400] [--out bench/concurrency-results.json]
 *
 * The dataset is uploaded once (presign + PUT, the S3 event ingests it). Each level then runs on a
 * freshly started stack over the same data (serverless-offline's workers all cold, as after a
 * deploy; the local Parquet cache emptied) with no catalog snapshot (as after a new dataset): `requests` queries, `concurrency` at a
 * time, three queries in turn. Reported per level: req/s, p50/p99/max latency, errors (non-2xx or
 * a failed connection, by kind), query engines started and snapshot writes (from the stack's log),
 * snapshot objects in the bucket, and Parquet downloads into the local cache (distinct files).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { localS3Client, type Json, repoRoot, benchArgs, writeResults } from './bench-common.js';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { generateWorkers, parseRows } from './gen-workers.js';


const root = repoRoot;
const values = benchArgs({
  rows: { type: 'string', default: '500k' },
  levels: { type: 'string', default: '1:50,4:200,32:400' },
  out: { type: 'string', default: 'bench/concurrency-results.json' },
  keep: { type: 'boolean', default: false },
});

const QUERIES = [
  'SELECT count(*) AS n FROM workers',
  "SELECT role, count(*) AS n FROM workers WHERE state = 'IL' GROUP BY role ORDER BY role",
  'SELECT state, avg(hourly_rate) AS avg_rate FROM workers GROUP BY state ORDER BY avg_rate DESC LIMIT 5',
];

function say(s: string): void {
  process.stderr.write(`[bench:concurrency] ${s}\n`);
}

const pct = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const r1 = (n: number) => Math.round(n * 10) / 10;

async function ensureData(rows: number, label: string): Promise<string> {
  const file = path.join(root, 'bench', 'data', `workers_${label}.csv`);
  if (!fs.existsSync(file)) {
    say(`generating ${path.relative(root, file)} (${rows} rows)…`);
    await generateWorkers(rows, file);
  }
  return file;
}


async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.push(o.Key!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function upload(stack: Stack, csv: string): Promise<void> {
  const size = fs.statSync(csv).size;
  const p = (await (await fetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name: 'workers', size, filename: 'workers.csv' }) })).json()) as Json;
  const put = await fetch(p.url, { method: 'PUT', body: fs.readFileSync(csv), headers: { 'content-length': String(size) } });
  if (!put.ok) throw new Error(`PUT answered ${put.status}`);
  const st = await waitForUpload(stack.api, p.upload_id, 600_000);
  if (st.state !== 'ready') throw new Error(`ingest failed: ${JSON.stringify(st.error)}`);
}

/** The inodes of the Parquet files in the sql function's local cache (a hard link is not a download). */
function cachedFiles(dir: string): Set<number> {
  const inodes = new Set<number>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet')) {
        try {
          inodes.add(fs.statSync(p).ino);
        } catch {
          /* evicted meanwhile */
        }
      }
    }
  };
  walk(dir);
  return inodes;
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

async function level(stack: Stack, concurrency: number, requests: number): Promise<Json> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      const t = performance.now();
      try {
        const r = await fetch(`${stack.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: QUERIES[i % QUERIES.length] }) });
        const body = await r.text();
        if (!r.ok) {
          const code = (() => {
            try {
              return (JSON.parse(body) as Json).error?.code ?? `http_${r.status}`;
            } catch {
              return `http_${r.status}`;
            }
          })();
          errors[`${r.status} ${code}`] = (errors[`${r.status} ${code}`] ?? 0) + 1;
        }
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const kind = cause?.code ?? cause?.message ?? (e as Error).message;
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
      latencies.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    concurrency,
    requests,
    seconds: r1(seconds),
    req_per_s: r1(requests / seconds),
    p50_ms: r1(pct(latencies, 50)),
    p99_ms: r1(pct(latencies, 99)),
    max_ms: r1(Math.max(...latencies)),
    errors: Object.values(errors).reduce((a, b) => a + b, 0),
    error_kinds: errors,
  };
}

async function main(): Promise<void> {
  const rows = parseRows(values.rows!);
  const csv = await ensureData(rows, values.rows!);
  const levels = values.levels!.split(',').map((s) => s.split(':').map(Number) as [number, number]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-conc-'));
  const env = { LAKEHOUSE_LOG_LEVEL: 'info' };
  const results: Json = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 1e9), node: process.version },
    when: new Date().toISOString(),
    data: { file: path.relative(root, csv), rows, bytes: fs.statSync(csv).size },
    queries: QUERIES,
    levels: [] as Json[],
  };
  let stack = await startStack({ dataDir, env });
  try {
    say(`uploading ${path.relative(root, csv)} through presign + PUT…`);
    await upload(stack, csv);
    for (const [concurrency, requests] of levels) {
      await stack.stop();
      // a cold machine: no local cache left by the previous level's engines
      fs.rmSync(path.join(dataDir, 'tmp', 'cache'), { recursive: true, force: true });
      stack = await startStack({ dataDir, env });
      const s3 = localS3Client(stack.s3);
      const old = await listKeys(s3, stack.bucket, '_catalog/snapshots/');
      if (old.length) await s3.send(new DeleteObjectsCommand({ Bucket: stack.bucket, Delete: { Objects: old.map((Key) => ({ Key })) } }));
      const logFrom = stack.output().length;
      const cacheDir = path.join(dataDir, 'tmp', 'cache');
      const before = cachedFiles(cacheDir);
      say(`concurrency ${concurrency}: ${requests} requests on a fresh stack…`);
      const r = await level(stack, concurrency, requests);
      // snapshot writes are fire-and-forget after a cold start: let them land before counting
      await new Promise((res) => setTimeout(res, 3000));
      const out = stack.output().slice(logFrom);
      r.engines_started = count(out, /"msg":"query engine ready"/g);
      r.snapshot_writes = count(out, /"msg":"query engine: catalog snapshot written"/g);
      r.snapshot_objects = (await listKeys(s3, stack.bucket, '_catalog/snapshots/')).length;
      r.parquet_downloads = [...cachedFiles(cacheDir)].filter((ino) => !before.has(ino)).length;
      const logFile = path.join(os.tmpdir(), `lakehouse-bench-concurrency-${concurrency}.log`);
      fs.writeFileSync(logFile, out);
      say(`stack log of this level: ${logFile}`);
      s3.destroy();
      say(JSON.stringify(r));
      results.levels.push(r);
    }
  } finally {
    await stack.stop();
    if (!values.keep) fs.rmSync(dataDir, { recursive: true, force: true });
  }
  writeResults(values.out!, results);
  process.stdout.write(
    [
      'concurrency  requests  req/s   p50 ms   p99 ms   max ms  errors  engines  snapshot writes  downloads',
      ...results.levels.map((l: Json) =>
        [l.concurrency, l.requests, l.req_per_s, l.p50_ms, l.p99_ms, l.max_ms, l.errors, l.engines_started, `${l.snapshot_writes} (${l.snapshot_objects} objects)`, l.parquet_downloads]
          .map(String)
          .map((s, i) => s.padStart([11, 9, 7, 8, 8, 8, 7, 8, 16, 10][i]!))
          .join(' '),
      ),
    ].join('\n') + '\n',
  );
}

main().catch((e: Error) => {
  process.stderr.write(`[bench:concurrency] failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
