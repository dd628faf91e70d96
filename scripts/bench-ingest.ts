/**
 * `npm run bench:ingest` (also part of `npm run bench`) — upload to queryable as the user sees
 * it: from the moment the PUT of the CSV finishes to the moment `GET /uploads/{id}` says `ready`,
 * through the real local stack (`npm start`'s launcher: serverless-offline + the embedded S3
 * server), beside two anchors measured in the same run, interleaved round by round:
 *
 *   duckdb     DuckDB alone on the local file: COPY (FROM read_csv(f)) TO parquet
 *   anchor     what a user would script by hand: a plain GET of the same file (from an S3 server of its own) to a file,
 *              DuckDB alone on it, a plain PUT of the Parquet (AWS SDK v3, lib-storage Upload)
 *
 * warm: the stack has ingested before, the anchors run in this (warm) process.
 * fresh: the first upload after the stack starts (a new stack per run), the anchors in a new
 *        process each (DuckDB instance creation included).
 * Peak RSS of an ingest: the real ingest handler in a fresh process (scripts/bench-child.ts).
 * CPU (warm rounds, Linux): the machine's busy core-ms during each path, every process counted
 * (the local S3 server shares the cores), and the wall time ours would take with every core busy.
 *
 *   npm run bench:ingest -- [--rows 500k] [--runs 5] [--fresh 3] [--big 9M|none] [--compare off] [--poll-ms 20] [--env K=V]…
 *   (--compare: other LAKEHOUSE_INGEST_OVERLAP modes, or KEY=value settings of the stack's environment, each on a
 *    stack of its own, in the same warm rounds; every other round runs its steps in reverse order;
 *    --poll-ms: also a client that polls every N ms instead of GET ?wait=, in the same warm rounds; 0: not)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { benchArgs, localS3Client, machineBusyMs, stackEnv, type Json, repoRoot, writeResults } from './bench-common.js';
import { Upload } from '@aws-sdk/lib-storage';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { startStack, type Stack } from '../localstack/stack.js';
import { generateWorkers, parseRows } from './gen-workers.js';


const root = repoRoot;
const exec = promisify(execFile);
const say = (s: string) => process.stderr.write(`[bench:ingest] ${s}\n`);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const r0 = (n: number) => Math.round(n);
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** Starts counting the machine's busy core-ms (all processes); the returned function reads the span's cost. */
function cpuSpan(): () => number | undefined {
  const b0 = machineBusyMs();
  return () => {
    const b1 = machineBusyMs();
    return b0 === undefined || b1 === undefined ? undefined : b1 - b0;
  };
}

export interface IngestBenchOptions {
  rows: string;
  runs: number;
  fresh: number;
  big: string;
  /** Extra environment for the stacks (e.g. LAKEHOUSE_INGEST_OVERLAP=off). */
  env?: Record<string, string>;
  /** Other LAKEHOUSE_INGEST_OVERLAP modes (or KEY=value settings) measured in the same warm rounds, each on a stack of its own. */
  compare?: string[];
  /** Also measure, in the same warm rounds, a client that polls every this many ms instead of waiting (0: not). */
  pollMs?: number;
}

async function ensureData(label: string): Promise<string> {
  const file = path.join(root, 'bench', 'data', `workers_${label}.csv`);
  if (!fs.existsSync(file)) {
    say(`generating ${file}…`);
    await generateWorkers(parseRows(label), file);
  }
  return file;
}


/**
 * PUT done → `ready`, as a client sees it. `wait` (the default, what the CLI and the console do):
 * GET /uploads/{id}?wait=20 in a loop, the server answering once the state moves; a number:
 * plain polling every that many ms (what a script without `wait` does).
 */
async function lakehouseUpload(stack: Stack, csv: string, name: string, client: 'wait' | number = 'wait'): Promise<Json> {
  const size = fs.statSync(csv).size;
  const p = (await (
    await fetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name, size, mode: 'replace', filename: 'workers.csv' }) })
  ).json()) as Json;
  await exec('curl', ['-sS', '-f', '-T', csv, p.url, '-o', '/dev/null']);
  const t0 = performance.now();
  const cpu = cpuSpan();
  let requests = 0;
  for (;;) {
    requests++;
    const st = (await (await fetch(`${stack.api}/uploads/${p.upload_id}${client === 'wait' ? '?wait=20' : ''}`)).json()) as Json;
    if (st.state === 'ready' || st.state === 'failed') {
      const ms = performance.now() - t0;
      const coreMs = cpu();
      if (st.state !== 'ready') throw new Error(`ingest failed: ${JSON.stringify(st.error)}`);
      return { ms, core_ms: coreMs, key: p.key, timings_ms: st.timings_ms, conversion: st.report?.conversion, status_requests: requests };
    }
    if (client !== 'wait') await new Promise((r) => setTimeout(r, client));
  }
}

const convertSql = (csv: string, out: string) => `COPY (FROM read_csv('${csv}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`;

/** DuckDB alone on the local file: its time, and the machine's busy core-ms meanwhile. */
async function duckdbAlone(db: DuckDBInstance, csv: string, dir: string): Promise<{ ms: number; core_ms?: number }> {
  const con = await db.connect();
  const out = path.join(dir, 'duckdb-alone.parquet');
  const t = performance.now();
  const cpu = cpuSpan();
  await con.run(convertSql(csv, out));
  const ms = performance.now() - t;
  const coreMs = cpu();
  con.closeSync();
  fs.rmSync(out, { force: true });
  return { ms, core_ms: coreMs };
}

/** A compared setting: an overlap mode (`off`), or any `KEY=value` of the stack's environment. */
function compareEnv(setting: string): Record<string, string> {
  const eq = setting.indexOf('=');
  return eq > 0 ? { [setting.slice(0, eq)]: setting.slice(eq + 1) } : { LAKEHOUSE_INGEST_OVERLAP: setting };
}

/** The hand-scripted anchor: GET the object, DuckDB, PUT the Parquet. */
async function anchor(s3: S3Client, bucket: string, key: string, db: DuckDBInstance, dir: string): Promise<Json> {
  const csv = path.join(dir, 'anchor.csv');
  const out = path.join(dir, 'anchor.parquet');
  const t0 = performance.now();
  const cpu = cpuSpan();
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(r.Body as Readable, fs.createWriteStream(csv));
  const t1 = performance.now();
  const con = await db.connect();
  await con.run(convertSql(csv, out));
  con.closeSync();
  const t2 = performance.now();
  await new Upload({ client: s3, params: { Bucket: bucket, Key: `anchor/${path.basename(dir)}.parquet`, Body: fs.createReadStream(out) } }).done();
  const t3 = performance.now();
  const coreMs = cpu();
  fs.rmSync(csv, { force: true });
  fs.rmSync(out, { force: true });
  return { ms: t3 - t0, core_ms: coreMs, get_ms: t1 - t0, duckdb_ms: t2 - t1, put_ms: t3 - t2 };
}

/** The anchors in a fresh process (DuckDB created there): `--child <what> <args…>`. */
async function childMain(args: string[]): Promise<void> {
  const [what, ...rest] = args;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-anchor-'));
  const t = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  let r: Json;
  if (what === 'duckdb') {
    await duckdbAlone(db, rest[0]!, dir);
    r = { ms: performance.now() - t };
  }  else {
    const [endpoint, bucket, key] = rest;
    const s3 = localS3Client(endpoint!);
    const a = await anchor(s3, bucket!, key!, db, dir);
    r = { ...a, ms: performance.now() - t };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ...r, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
}

async function inChild(...args: string[]): Promise<Json> {
  const t = performance.now();
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], { cwd: root, maxBuffer: 1 << 24 });
  return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as Json), wall_ms: performance.now() - t };
}

/** Peak RSS of the real ingest handler in a fresh process, on an object of the stack's bucket. */
async function ingestRss(stack: Stack, key: string, size: number): Promise<Json> {
  const env = { ...process.env, ...stackEnv(stack), NODE_OPTIONS: '--openssl-legacy-provider' };
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/bench-child.ts'), 'ingest', key, String(size)], {
    env,
    cwd: root,
    maxBuffer: 1 << 24,
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as Json;
  return { peak_rss_mb: r.peak_rss_mb, total_ms: r.timings?.total, timings_ms: r.timings };
}

export async function benchIngest(o: IngestBenchOptions): Promise<Json> {
  const csv = await ensureData(o.rows);
  const size = fs.statSync(csv).size;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  const out: Json = { file: path.relative(root, csv), bytes: size, client: 'GET /uploads/{id}?wait=20 in a loop', ...(o.pollMs ? { also_polled_every_ms: o.pollMs } : {}) };
  const db = await DuckDBInstance.create(':memory:');
  // the anchor's own S3 server, fresh and warm: on ours, its GET and PUT made our next ingest
  // ~190 ms slower (an A/A run: two identical stacks, 8 of 8 rounds slower on the one the anchor also used)
  let anchorStack: Stack | undefined;
  let s3: S3Client | undefined;
  const anchorKey = 'anchor/input.csv';
  try {
    const aStack = (anchorStack = await startStack({ dataDir: fs.mkdtempSync(path.join(work, 'stack-')), env: o.env }));
    const aS3 = (s3 = localS3Client(aStack.s3));
    // not under uploads/: no ingest on the anchor's stack
    await new Upload({ client: aS3, params: { Bucket: aStack.bucket, Key: anchorKey, Body: fs.createReadStream(csv) } }).done();
    // ── fresh: a new stack per run, its first upload; the anchors in new processes ──
    const fresh: Json[] = [];
    for (let i = 0; i < o.fresh; i++) {
      say(`fresh run ${i + 1}/${o.fresh}…`);
      const stack = await startStack({ dataDir: fs.mkdtempSync(path.join(work, 'stack-')), env: o.env });
      try {
        const ours = await lakehouseUpload(stack, csv, 'workers');
        // the anchors' time from DuckDB's creation on (Node's own start is not counted)
        const a = await inChild('anchor', aStack.s3, aStack.bucket, anchorKey);
        const d = await inChild('duckdb', csv);
        fresh.push({ lakehouse_ms: ours.ms, timings_ms: ours.timings_ms, anchor_ms: a.ms, anchor: a, duckdb_ms: d.ms });
      } finally {
        await stack.stop();
      }
    }
    // ── warm: one stack (plus one per other overlap mode compared); round by round, ours, the anchor, DuckDB alone ──
    const stack = await startStack({ dataDir: fs.mkdtempSync(path.join(work, 'stack-')), env: o.env });
    const others: Array<{ mode: string; stack: Stack; runs: number[] }> = [];
    for (const mode of o.compare ?? []) {
      others.push({ mode, stack: await startStack({ dataDir: fs.mkdtempSync(path.join(work, 'stack-')), env: { ...o.env, ...compareEnv(mode) } }), runs: [] });
    }
    const warm: Json[] = [];
    try {
      say('warm-up…');
      const w = await lakehouseUpload(stack, csv, 'workers');
      for (const x of others) await lakehouseUpload(x.stack, csv, 'workers');
      await anchor(aS3, aStack.bucket, anchorKey, db, work);
      await duckdbAlone(db, csv, work);
      for (let i = 0; i < o.runs; i++) {
        say(`warm round ${i + 1}/${o.runs}…`);
        // every other round runs the same steps in reverse order: no path always comes first, or
        // always right after the same other path
        let ours: Json | undefined;
        let polled: Json | undefined;
        let a: Json | undefined;
        let d: { ms: number; core_ms?: number } | undefined;
        const steps: Array<() => Promise<unknown>> = [
          async () => (ours = await lakehouseUpload(stack, csv, 'workers')),
          ...others.map((x) => async () => x.runs.push((await lakehouseUpload(x.stack, csv, 'workers')).ms)),
          ...(o.pollMs ? [async () => (polled = await lakehouseUpload(stack, csv, 'workers', o.pollMs))] : []),
          async () => (a = await anchor(aS3, aStack.bucket, anchorKey, db, work)),
          async () => (d = await duckdbAlone(db, csv, work)),
        ];
        for (const step of i % 2 === 0 ? steps : steps.reverse()) await step();
        if (!ours || !a || !d) throw new Error('a warm round did not run every step');
        warm.push({
          lakehouse_ms: ours.ms,
          timings_ms: ours.timings_ms,
          conversion: ours.conversion,
          status_requests: ours.status_requests,
          ...(polled ? { polled_ms: polled.ms, polled_timings_ms: polled.timings_ms, polled_requests: polled.status_requests } : {}),
          anchor_ms: a.ms,
          anchor: a,
          duckdb_ms: d.ms,
          core_ms: ours.core_ms,
          duckdb_core_ms: d.core_ms,
        });
      }
      if (others.length) {
        const anchorMs = median(warm.map((r) => r.anchor_ms));
        out.warm_other_modes = Object.fromEntries(
          others.map((x) => [x.mode, { lakehouse_ms: r0(median(x.runs)), ratio_vs_anchor: ratio(median(x.runs), anchorMs), runs: x.runs.map(r0) }]),
        );
      }
      say('peak RSS of an ingest in a fresh process…');
      out.ingest_peak_rss = await ingestRss(stack, w.key, size);
      // ── the big file: one of each ──
      if (o.big !== 'none') {
        const big = await ensureData(o.big);
        const bigSize = fs.statSync(big).size;
        say(`big file ${path.basename(big)} (${(bigSize / 1e9).toFixed(2)} GB)…`);
        await new Upload({ client: aS3, params: { Bucket: aStack.bucket, Key: 'anchor/big.csv', Body: fs.createReadStream(big) } }).done();
        const ours = await lakehouseUpload(stack, big, 'workers_big');
        const a = await anchor(aS3, aStack.bucket, 'anchor/big.csv', db, work);
        const d = await duckdbAlone(db, big, work);
        const rss = await ingestRss(stack, ours.key, bigSize);
        out.big = {
          file: path.relative(root, big),
          bytes: bigSize,
          lakehouse_ms: r0(ours.ms),
          timings_ms: ours.timings_ms,
          anchor_ms: r0(a.ms),
          anchor: mapRound(a),
          duckdb_ms: r0(d.ms),
          ratio_vs_anchor: ratio(ours.ms, a.ms),
          ratio_vs_duckdb: ratio(ours.ms, d.ms),
          ingest_peak_rss: rss,
        };
      }
    } finally {
      await stack.stop();
      for (const x of others) await x.stack.stop();
    }
    const summary = (runs: Json[]) => {
      const m = { lakehouse_ms: r0(median(runs.map((r) => r.lakehouse_ms))), anchor_ms: r0(median(runs.map((r) => r.anchor_ms))), duckdb_ms: r0(median(runs.map((r) => r.duckdb_ms))) };
      return {
        runs: runs.length,
        ...m,
        ratio_vs_anchor: ratio(m.lakehouse_ms, m.anchor_ms),
        ratio_vs_duckdb: ratio(m.lakehouse_ms, m.duckdb_ms),
        rounds: runs.map((r) => ({ ...mapRound(r), anchor: mapRound(r.anchor) })),
      };
    };
    out.warm = summary(warm);
    const cpu = cpuSummary(warm);
    if (cpu) out.warm.cpu = cpu;
    if (o.pollMs) out.warm.polled = { every_ms: o.pollMs, lakehouse_ms: r0(median(warm.map((r) => r.polled_ms))), ratio_vs_anchor: ratio(median(warm.map((r) => r.polled_ms)), out.warm.anchor_ms) };
    out.fresh = summary(fresh);
    out.first_upload_penalty_ms = r0(out.fresh.lakehouse_ms - out.warm.lakehouse_ms);
    return out;
  } finally {
    s3?.destroy();
    await anchorStack?.stop();
    db.closeSync();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The work behind the warm medians: the machine's busy core-ms during ours, the anchor and DuckDB
 * alone, how many cores each kept busy on average, and the wall time ours would take if it kept
 * every core busy from PUT to `ready` (its work / cores). When that floor is above the anchor's
 * time, no overlap can reach the anchor on this machine: only doing less work can.
 */
function cpuSummary(warm: Json[]): Json | undefined {
  const rounds = warm.filter((r) => r.core_ms !== undefined && r.anchor.core_ms !== undefined && r.duckdb_core_ms !== undefined);
  if (!rounds.length) return undefined;
  const cores = os.availableParallelism();
  const m = (f: (r: Json) => number) => median(rounds.map(f));
  const busy = (f: (r: Json) => number) => Math.round(m(f) * 100) / 100;
  const lakehouse = m((r) => r.core_ms);
  const anchorMs = m((r) => r.anchor_ms);
  return {
    cores,
    rounds: rounds.length,
    lakehouse_core_ms: r0(lakehouse),
    anchor_core_ms: r0(m((r) => r.anchor.core_ms)),
    duckdb_core_ms: r0(m((r) => r.duckdb_core_ms)),
    lakehouse_cores_busy: busy((r) => r.core_ms / r.lakehouse_ms),
    anchor_cores_busy: busy((r) => r.anchor.core_ms / r.anchor_ms),
    duckdb_cores_busy: busy((r) => r.duckdb_core_ms / r.duckdb_ms),
    lakehouse_floor_ms: r0(lakehouse / cores),
    floor_vs_anchor: ratio(lakehouse / cores, anchorMs),
    floor_vs_duckdb: ratio(lakehouse / cores, m((r) => r.duckdb_ms)),
  };
}

function mapRound(r: Json): Json {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? r0(v) : v]));
}

function print(r: Json): void {
  const row = (label: string, s: Json) =>
    `${label.padEnd(8)} lakehouse ${String(s.lakehouse_ms).padStart(6)} ms | anchor ${String(s.anchor_ms).padStart(6)} ms | duckdb ${String(s.duckdb_ms).padStart(6)} ms | ×anchor ${s.ratio_vs_anchor} | ×duckdb ${s.ratio_vs_duckdb} (median of ${s.runs})`;
  console.log(`PUT done → ready, ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB)`);
  console.log(row('warm', r.warm));
  console.log(row('fresh', r.fresh));
  console.log(`first-upload penalty ${r.first_upload_penalty_ms} ms; ingest peak RSS (fresh process) ${r.ingest_peak_rss?.peak_rss_mb} MB`);
  const c = r.warm.cpu as Json | undefined;
  if (c)
    console.log(
      `warm, the machine's busy CPU (${c.cores} cores, all processes): lakehouse ${c.lakehouse_core_ms} core-ms (${c.lakehouse_cores_busy} cores busy) | anchor ${c.anchor_core_ms} (${c.anchor_cores_busy}) | duckdb ${c.duckdb_core_ms} (${c.duckdb_cores_busy}); ` +
        `with every core busy ours would take ${c.lakehouse_floor_ms} ms: ×anchor ${c.floor_vs_anchor}, ×duckdb ${c.floor_vs_duckdb}`,
    );
  if (r.warm.polled) console.log(`warm, a client polling every ${r.warm.polled.every_ms} ms instead of ?wait=: lakehouse ${r.warm.polled.lakehouse_ms} ms, ×anchor ${r.warm.polled.ratio_vs_anchor}`);
  for (const [mode, x] of Object.entries((r.warm_other_modes ?? {}) as Json)) console.log(`warm, ${mode.includes('=') ? mode : `LAKEHOUSE_INGEST_OVERLAP=${mode}`}: lakehouse ${x.lakehouse_ms} ms, ×anchor ${x.ratio_vs_anchor}`);
  if (r.big) console.log(`big: ${r.big.file}: lakehouse ${r.big.lakehouse_ms} ms, anchor ${r.big.anchor_ms}, duckdb ${r.big.duckdb_ms}; peak RSS ${r.big.ingest_peak_rss.peak_rss_mb} MB`);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await childMain(argv.slice(1));
  } else {
    const values = benchArgs({
      rows: { type: 'string', default: '500k' },
      runs: { type: 'string', default: '5' },
      fresh: { type: 'string', default: '3' },
      big: { type: 'string', default: '9M' },
      out: { type: 'string', default: 'bench/ingest-results.json' },
      env: { type: 'string', multiple: true, default: [] },
      compare: { type: 'string', default: 'off' },
      'poll-ms': { type: 'string', default: '20' },
    });
    const r = await benchIngest({ rows: values.rows!, runs: Math.max(1, Number(values.runs)), fresh: Math.max(1, Number(values.fresh)), big: values.big!, compare: values.compare ? values.compare.split(',').filter(Boolean) : [], pollMs: Number(values['poll-ms']) || 0, env: Object.fromEntries((values.env as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) });
    writeResults(values.out!, { when: new Date().toISOString(), ...r });
    print(r);
  }
}
