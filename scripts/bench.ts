/**
 * `npm run bench` — the numbers of docs/BASELINE.md, measured in one run on this machine, each
 * next to raw DuckDB doing the same work on the same data. Not part of `npm test`.
 *
 *   npm run bench [-- --rows 500k] [--runs 30] [--big 5M|none] [--datasets 100] [--commits 20]
 *
 * Writes bench/results.json and prints a table. Heavy steps run in fresh processes
 * (scripts/bench-child.ts) so each peak RSS belongs to one task.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { startS3Server } from '../localstack/s3-server.js';
import { generateWorkers, parseRows } from './gen-workers.js';
import { seedSchema } from './bench-common.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const exec = promisify(execFile);

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '500k' },
    runs: { type: 'string', default: '30' },
    big: { type: 'string', default: '5M' },
    datasets: { type: 'string', default: '100' },
    commits: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results.json' },
  },
});
const RUNS = Math.max(30, Number(values.runs));

function say(s: string): void {
  process.stderr.write(`[bench] ${s}\n`);
}

const pct = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (v: number[]) => pct(v, 50);
const r1 = (n: number) => Math.round(n * 10) / 10;

async function ensureData(rows: number, label: string): Promise<string> {
  const file = path.join(root, 'bench', 'data', `workers_${label}.csv`);
  if (!fs.existsSync(file)) {
    say(`generating ${file} (${rows} rows)…`);
    await generateWorkers(rows, file);
  }
  return file;
}

async function child(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Json> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/bench-child.ts'), ...args], {
    env,
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').pop()!;
  const r = JSON.parse(line) as Json;
  if (r.error) throw new Error(`bench child ${args[0]}: ${r.error}`);
  return r;
}

/** `node bin/lakehouse.js --help` wall time, as a user runs it: one warm-up (it builds dist/cli if stale), then `runs` timed. */
async function cliHelp(runs: number): Promise<Json> {
  const run = () => exec(process.execPath, [path.join(root, 'bin/lakehouse.js'), '--help'], { cwd: os.tmpdir(), env: { ...process.env, NODE_OPTIONS: '' } });
  await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return { runs, median_ms: r1(median(ms)), min_ms: r1(Math.min(...ms)), max_ms: r1(Math.max(...ms)), target_ms: 300 };
}

async function api(stack: Stack, method: string, p: string, body?: unknown): Promise<Json> {
  const r = await fetch(`${stack.api}${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await r.json()) as Json;
}

async function main(): Promise<void> {
  const rows = parseRows(values.rows!);
  const csv = await ensureData(rows, values.rows!);
  const size = fs.statSync(csv).size;
  const results: Json = {
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memory_gb: Math.round(os.totalmem() / 1e9),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      duckdb: (await import('@duckdb/node-api')).version?.() ?? 'see package-lock',
    },
    when: new Date().toISOString(),
    data: { file: path.relative(root, csv), rows, bytes: size },
  };
  // ── 0. the CLI's start-up: `lakehouse --help` in a fresh process (before the stack loads the machine) ──
  say('lakehouse --help ×10…');
  results.cli_help = await cliHelp(10);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-'));
  const stack = await startStack({ dataDir });
  // Fresh-process measurements use a second, private S3 server: no event bridge fires on it, so
  // nothing else ingests the same objects while they are measured.
  const s3b = await startS3Server({ directory: path.join(dataDir, 's3-bench'), buckets: ['lakehouse'] });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    S3_ENDPOINT: s3b.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LAKEHOUSE_BUCKET: stack.bucket,
    LAKEHOUSE_TMP_DIR: path.join(dataDir, 'bench-tmp'),
    LAKEHOUSE_LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_OPTIONS: '--openssl-legacy-provider',
  };
  Object.assign(process.env, env);
  const { uploadFile } = await import('../lib/storage/objects.js');
  try {
    // ── 1. ingest through the real path (presign → curl PUT → S3 event → offline ingest) ──
    say('ingest through the HTTP API and the S3 event…');
    const p = await api(stack, 'POST', '/uploads', { name: 'workers', size, filename: path.basename(csv) });
    let t = performance.now();
    await exec('curl', ['-sS', '-f', '-T', csv, p.url, '-o', '/dev/null']);
    const putMs = performance.now() - t;
    t = performance.now();
    const st = await waitForUpload(stack.api, p.upload_id, 600_000);
    const readyMs = performance.now() - t;
    if (st.state !== 'ready') throw new Error(`ingest failed: ${JSON.stringify(st.error)}`);
    results.ingest_http = { put_ms: r1(putMs), event_to_ready_ms: r1(readyMs), phases_ms: st.timings_ms, conversion: (st.report as Json)?.conversion };

    // ── 2. ingest in fresh processes (peak RSS), and DuckDB alone on the same file ──
    say('ingest ×3 in fresh processes vs DuckDB alone ×3…');
    const ingests: Json[] = [];
    const baselines: Json[] = [];
    for (let i = 1; i <= 3; i++) {
      const key = `uploads/workers/bench-${i}.csv`;
      await uploadFile(key, csv, 'text/csv');
      const r = await child(env, 'ingest', key, String(size));
      if (!r.timings) throw new Error(`ingest in a child process did not finish: ${JSON.stringify(r).slice(0, 500)}`);
      ingests.push(r);
      baselines.push(await child(env, 'duckdb-convert', csv));
    }
    await uploadFile('uploads/workers/bench-warm-a.csv', csv, 'text/csv');
    await uploadFile('uploads/workers/bench-warm-b.csv', csv, 'text/csv');
    const warm = await child(env, 'ingest-warm', 'uploads/workers/bench-warm-a.csv', 'uploads/workers/bench-warm-b.csv', String(size));
    const detectConvert = ingests.map((r) => (r.timings.detect ?? 0) + (r.timings.convert ?? 0));
    const base = baselines.map((b) => b.ms);
    results.ingest = {
      runs: ingests.map((r) => ({ timings_ms: r.timings, peak_rss_mb: r.peak_rss_mb, conversion: r.report_conversion })),
      detect_plus_convert_ms: r1(median(detectConvert)),
      total_ms: r1(median(ingests.map((r) => r.timings.total))),
      peak_rss_mb: Math.max(...ingests.map((r) => r.peak_rss_mb)),
      baseline_duckdb_convert_ms: r1(median(base)),
      baseline_peak_rss_mb: Math.max(...baselines.map((b) => b.peak_rss_mb)),
      ratio_detect_convert_vs_baseline: r1((median(detectConvert) / median(base)) * 100) / 100,
      ratio_total_vs_baseline: r1((median(ingests.map((r) => r.timings.total)) / median(base)) * 100) / 100,
      warm_container: {
        timings_ms: warm.timings,
        detect_plus_convert_ms: (warm.timings.detect ?? 0) + (warm.timings.convert ?? 0),
        ratio_detect_convert_vs_baseline: r1((((warm.timings.detect ?? 0) + (warm.timings.convert ?? 0)) / median(base)) * 100) / 100,
        peak_rss_mb: warm.peak_rss_mb,
      },
    };

    // ── 3. /sql warm latency through HTTP vs raw DuckDB on the same Parquet file ──
    say(`/sql warm latency, ${RUNS} runs per query…`);
    const { readHead } = await import('../lib/catalog/store.js');
    const { downloadToFile } = await import('../lib/storage/objects.js');
    // the very Parquet object the stack serves
    process.env.S3_ENDPOINT = stack.s3;
    const m = (await readHead('workers'))!;
    const parquet = path.join(dataDir, 'workers.parquet');
    await downloadToFile(m.objects[0]!.key, parquet);
    process.env.S3_ENDPOINT = s3b.endpoint;
    const raw = await DuckDBInstance.create(':memory:', { threads: String(os.availableParallelism()) });
    const rc = await raw.connect();
    await rc.run(`CREATE VIEW workers AS SELECT * FROM read_parquet('${parquet}')`);
    const queries: Record<string, string> = {
      count: 'SELECT count(*) FROM workers',
      il_group_by: "SELECT role, count(*) FROM workers WHERE state = 'IL' GROUP BY role",
      top5_states_by_rate: 'SELECT state, avg(hourly_rate) AS avg_rate FROM workers GROUP BY state ORDER BY avg_rate DESC LIMIT 5',
    };
    results.sql_warm = {};
    {
      // the floor: serverless-offline answering GET /health (no S3, no DuckDB)
      const h: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t1 = performance.now();
        await (await fetch(`${stack.api}/health`)).text();
        h.push(performance.now() - t1);
      }
      results.http_floor_health_p50_ms = r1(median(h));
    }
    for (const [label, q] of Object.entries(queries)) {
      for (let i = 0; i < 3; i++) await api(stack, 'POST', '/sql', { sql: q });
      const ours: number[] = [];
      const serverSide: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t1 = performance.now();
        const r = await api(stack, 'POST', '/sql', { sql: q });
        ours.push(performance.now() - t1);
        serverSide.push(r.elapsed_ms);
      }
      const rawT: number[] = [];
      for (let i = 0; i < 3; i++) await rc.runAndReadAll(q);
      for (let i = 0; i < RUNS; i++) {
        const t1 = performance.now();
        await rc.runAndReadAll(q);
        rawT.push(performance.now() - t1);
      }
      results.sql_warm[label] = {
        http_p50_ms: r1(median(ours)),
        http_p95_ms: r1(pct(ours, 95)),
        server_p50_ms: r1(median(serverSide)),
        raw_duckdb_p50_ms: r1(median(rawT)),
        raw_duckdb_p95_ms: r1(pct(rawT, 95)),
        ratio_p50: r1((median(ours) / median(rawT)) * 100) / 100,
        overhead_p50_ms: r1(median(ours) - median(rawT)),
        target_ms: r1(1.2 * median(rawT) + 5),
      };
    }
    rc.closeSync();
    // the same queries in-process (no HTTP), with the per-query freshness probe and without it
    const strict = await child(env, 'sql-loop', JSON.stringify(queries), String(RUNS));
    const relaxed = await child({ ...env, LAKEHOUSE_CATALOG_TTL_MS: '60000' }, 'sql-loop', JSON.stringify(queries), String(RUNS));
    for (const label of Object.keys(queries)) {
      results.sql_warm[label].in_process_p50_ms = r1(strict.queries[label].p50);
      results.sql_warm[label].in_process_no_probe_p50_ms = r1(relaxed.queries[label].p50);
      results.sql_warm[label].in_process_ratio = r1((strict.queries[label].p50 / results.sql_warm[label].raw_duckdb_p50_ms) * 100) / 100;
    }

    // ── 4. a 500k-row SELECT * in every format (fresh process each: time, bytes, peak RSS) ──
    say('SELECT * of every row in each format…');
    results.select_all = {};
    for (const format of ['json', 'csv', 'ndjson', 'arrow']) {
      const r = await child(env, 'sql', JSON.stringify({ sql: 'SELECT * FROM workers', limit: rows, format }), JSON.stringify({ sql: 'SELECT count(*) FROM workers' }));
      const full = r.result_url ? (await (await fetch(r.result_url)).arrayBuffer()).byteLength : r.inline_bytes;
      results.select_all[format] = {
        full_bytes: full,
        ms: r1(r.ms),
        build_ms: r.exec_ms,
        spill_upload_ms: r.upload_ms,
        inline_bytes: r.inline_bytes,
        peak_rss_mb: r.peak_rss_mb,
        status: r.status,
      };
    }
    const dj = await child(env, 'duckdb-json', parquet);
    results.select_all.baseline_duckdb_json = { ms: r1(dj.ms), bytes: dj.bytes, peak_rss_mb: dj.peak_rss_mb };
    results.select_all.ratio_json_build_vs_duckdb_json = r1((results.select_all.json.build_ms / dj.ms) * 100) / 100;
    results.select_all.ratio_json_total_vs_duckdb_json = r1((results.select_all.json.ms / dj.ms) * 100) / 100;

    // ── 5. catalog: N datasets × M commits; cold load and a cold sql process ──
    const N = Number(values.datasets);
    const M = Number(values.commits);
    say(`catalog: ${N} datasets × ${M} commits…`);
    const tiny = path.join(dataDir, 'tiny.parquet');
    const tinyDb = await DuckDBInstance.create(':memory:');
    const tc = await tinyDb.connect();
    await tc.run(`COPY (SELECT range AS id, 'x' || range AS label FROM range(10)) TO '${tiny}' (FORMAT parquet)`);
    tc.closeSync();
    const { commitObjects } = await import('../lib/catalog/register.js');
    const { mapLimit } = await import('../lib/catalog/store.js');
    const { schema, fp } = await seedSchema();
    t = performance.now();
    await mapLimit(Array.from({ length: N }, (_, i) => `ds_${String(i).padStart(3, '0')}`), 16, async (name) => {
      const key = `datasets/${name}/${fp.slice(0, 16)}/tiny.parquet`;
      await uploadFile(key, tiny, 'application/vnd.apache.parquet');
      for (let c = 0; c < M; c++) {
        await commitObjects({ name, schema, schema_fingerprint: fp, objects: [{ key, size: fs.statSync(tiny).size, row_count: 10 }], row_count: 10, mode: 'replace' });
      }
    });
    const commitMs = performance.now() - t;
    const cat = await child(env, 'catalog');
    // a cold engine reads no catalog (0.4.0): its start does not depend on the datasets or a snapshot
    const cold = await child(env, 'cold', 'SELECT count(*) AS n FROM ds_042');
    results.catalog = {
      datasets: N,
      commits_per_dataset: M,
      commits_total_ms: r1(commitMs),
      commit_mean_ms: r1(commitMs / ((N * M) / 16)),
      cold_load_ms: r1(cat.ms),
      cold_load_datasets: cat.datasets,
    };
    results.cold_start = {
      datasets: cold.datasets,
      import_ms: r1(cold.import_ms),
      engine_ready_ms: r1(cold.engine_ms),
      first_answer_ms: r1(cold.first_query_ms),
      import_plus_engine_ms: r1(cold.import_ms + cold.engine_ms),
      downloads_for_first_answer: cold.downloads,
      process_ms: r1(cold.process_ms),
      peak_rss_mb: cold.peak_rss_mb,
    };

    // ── 6. a 5M-row file: ingest time and peak RSS ──
    if (values.big !== 'none') {
      const bigRows = parseRows(values.big!);
      const bigCsv = await ensureData(bigRows, values.big!);
      const bigSize = fs.statSync(bigCsv).size;
      say(`ingest of ${bigRows} rows (${(bigSize / 1e6).toFixed(0)} MB)…`);
      const key = `uploads/workers_big/bench-big.csv`;
      await uploadFile(key, bigCsv, 'text/csv');
      const r = await child(env, 'ingest', key, String(bigSize));
      const b = await child(env, 'duckdb-convert', bigCsv);
      results.big = {
        rows: bigRows,
        bytes: bigSize,
        timings_ms: r.timings,
        peak_rss_mb: r.peak_rss_mb,
        baseline_duckdb_convert_ms: r1(b.ms),
        baseline_peak_rss_mb: b.peak_rss_mb,
        ratio_detect_convert_vs_baseline: r1((((r.timings.detect ?? 0) + (r.timings.convert ?? 0)) / b.ms) * 100) / 100,
      };
    }
  } finally {
    await stack.stop();
    await s3b.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  fs.mkdirSync(path.dirname(path.resolve(root, values.out!)), { recursive: true });
  fs.writeFileSync(path.resolve(root, values.out!), JSON.stringify(results, null, 2) + '\n');
  printTable(results);

  // the dataset lifecycle (compaction, pruning, commit cost): its own process and S3 server
  say('dataset lifecycle (scripts/bench-lifecycle.ts)…');
  const lc = await exec(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(root, 'scripts/bench-lifecycle.ts')], {
    env: process.env,
    maxBuffer: 16 * 1024 * 1024,
  });
  process.stdout.write(`\n${lc.stdout}written to bench/lifecycle-results.json\n`);
  // issue 13: what the user waits for, each in a script of its own (also runnable alone: npm run bench:<name>)
  for (const name of ['ingest', 'sql', 'small', 'concurrency', 'catalog']) {
    say(`${name} (scripts/bench-${name}.ts)…`);
    const r = await exec(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(root, `scripts/bench-${name}.ts`)], {
      env: process.env,
      maxBuffer: 16 * 1024 * 1024,
    });
    process.stdout.write(`\n${r.stdout}`);
  }
}

function printTable(r: Json): void {
  const lines: string[][] = [['measure', 'lakehouse', 'raw DuckDB', 'ratio', 'target']];
  const add = (a: string, b: unknown, c: unknown, d: unknown, e = '') => lines.push([a, String(b ?? ''), String(c ?? ''), String(d ?? ''), e]);
  if (r.cli_help) add(`CLI \`lakehouse --help\`, median of ${r.cli_help.runs} runs (ms)`, r.cli_help.median_ms, '', '', `≤ ${r.cli_help.target_ms}`);
  const i = r.ingest;
  add(`ingest ${r.data.rows} rows: detect+convert (ms)`, i.detect_plus_convert_ms, i.baseline_duckdb_convert_ms, i.ratio_detect_convert_vs_baseline, '≤ 1.5');
  add('ingest total, download→commit (ms)', i.total_ms, i.baseline_duckdb_convert_ms, i.ratio_total_vs_baseline);
  add('ingest peak RSS (MB)', i.peak_rss_mb, i.baseline_peak_rss_mb, '');
  add('ingest, warm container: detect+convert (ms)', i.warm_container.detect_plus_convert_ms, i.baseline_duckdb_convert_ms, i.warm_container.ratio_detect_convert_vs_baseline, '≤ 1.5');
  add('HTTP floor: GET /health p50 via serverless-offline (ms)', r.http_floor_health_p50_ms, '', '');
  add('PUT / event→ready via HTTP (ms)', `${r.ingest_http.put_ms} / ${r.ingest_http.event_to_ready_ms}`, '', '');
  for (const [k, v] of Object.entries<Json>(r.sql_warm)) {
    add(`/sql warm ${k} p50 / p95 via HTTP (ms)`, `${v.http_p50_ms} / ${v.http_p95_ms}`, `${v.raw_duckdb_p50_ms} / ${v.raw_duckdb_p95_ms}`, v.ratio_p50, `≤ ${v.target_ms} ms`);
    add(`  in-process p50; without the freshness probe (ms)`, `${v.in_process_p50_ms}; ${v.in_process_no_probe_p50_ms}`, v.raw_duckdb_p50_ms, v.in_process_ratio);
  }
  for (const f of ['json', 'csv', 'ndjson', 'arrow']) {
    const v = r.select_all[f];
    add(
      `SELECT * ${f}: build+upload ms / MB / RSS MB`,
      `${v.build_ms}+${v.spill_upload_ms} / ${(v.full_bytes / 1e6).toFixed(1)} / ${v.peak_rss_mb}`,
      f === 'json' ? `${r.select_all.baseline_duckdb_json.ms} / ${(r.select_all.baseline_duckdb_json.bytes / 1e6).toFixed(1)} / ${r.select_all.baseline_duckdb_json.peak_rss_mb}` : '',
      f === 'json' ? r.select_all.ratio_json_build_vs_duckdb_json : '',
      f === 'json' ? '≤ 1.3, RSS < 400' : '',
    );
  }
  add(`catalog cold load, ${r.catalog.datasets} × ${r.catalog.commits_per_dataset} commits (ms)`, r.catalog.cold_load_ms, '', '');
  add(`cold start: import + engine (${r.cold_start.datasets} datasets) (ms)`, r.cold_start.import_plus_engine_ms, '', '', '≤ 1000');
  add('cold start: first answer incl. download (ms)', r.cold_start.first_answer_ms, '', '');
  if (r.big) {
    add(`ingest ${r.big.rows} rows: total ms / peak RSS MB`, `${r.big.timings_ms.total} / ${r.big.peak_rss_mb}`, `${r.big.baseline_duckdb_convert_ms} / ${r.big.baseline_peak_rss_mb}`, r.big.ratio_detect_convert_vs_baseline, 'RSS ≤ 1024');
  }
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  for (const l of lines) process.stdout.write(l.map((x, c) => x.padEnd(w[c]!)).join('  ') + '\n');
  process.stdout.write(`\nwritten to ${values.out}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
