/**
 * `npm run bench:sql` — /sql warm latency, split honestly (docs/BASELINE.md "/sql warm latency").
 *
 *   npm run bench:sql [-- --runs 50] [--rows 500k] [--out bench/sql-results.json]
 *
 * One run of the real local stack (`npm start`'s launcher) with workers_<rows>.csv ingested through
 * it (presign → PUT → S3 event → ingest). Then, per query, `runs` rounds after warm-ups; each round
 * measures, one after another against the same data and the same S3 server:
 *   - raw DuckDB: the query on a local copy of the very Parquet object the stack serves (an
 *     instance with the engine's settings, lib/duckdb.ts), result read in full;
 *   - a plain HEAD of the key the freshness probe asks for (a keep-alive node:http request, no SDK,
 *     no signing), the same HEAD through the SDK client (lib/storage/objects.ts), and as the probe
 *     sends it (lib/storage/exists.ts: signed by the SDK's signer, without its middleware);
 *   - the sql handler in this process (functions/sql.ts: from handler entry to return — what
 *     Lambda bills), with its Server-Timing split (`fresh` = the probe inside it, `exec`);
 *   - HTTP end to end: POST /sql through serverless-offline (the bundled handler in a worker
 *     thread), and serverless-offline's own "Duration" of that invocation.
 * Target (issue 13): handler p50 ≤ 1.2 × raw DuckDB p50 + plain HEAD p50 + 1 ms.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startStack, waitForUpload } from '../localstack/stack.js';
import { stackEnv, type Json, repoRoot, benchArgs, writeResults } from './bench-common.js';
import { generateWorkers, parseRows } from './gen-workers.js';


const root = repoRoot;
const values = benchArgs({
  rows: { type: 'string', default: '500k' },
  runs: { type: 'string', default: '50' },
  out: { type: 'string', default: 'bench/sql-results.json' },
});
const RUNS = Number(values.runs);
const QUERIES: Record<string, string> = {
  count: 'SELECT count(*) FROM workers',
  group_by: "SELECT role, count(*) FROM workers WHERE state = 'IL' GROUP BY role",
  top5: 'SELECT state, avg(hourly_rate) AS avg_rate FROM workers GROUP BY state ORDER BY avg_rate DESC LIMIT 5',
};

const say = (s: string) => process.stderr.write(`[bench:sql] ${s}\n`);
const pct = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r2 = (n: number) => Math.round(n * 100) / 100;
const stats = (v: number[]) => ({ p50: r2(pct(v, 50)), p95: r2(pct(v, 95)) });

function timingOf(header: string | undefined, name: string): number | undefined {
  const m = new RegExp(`(?:^|,\\s*)${name};dur=([\\d.]+)`).exec(header ?? '');
  return m ? Number(m[1]) : undefined;
}

/** A HEAD with nothing of ours in the way: node:http, a keep-alive agent, no signature (the local server does not check one). */
function plainHead(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = http.request(url, { method: 'HEAD', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t));
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const rows = parseRows(values.rows!);
  const csv = path.join(root, 'bench', 'data', `workers_${values.rows}.csv`);
  if (!fs.existsSync(csv)) {
    say(`generating ${csv}…`);
    await generateWorkers(rows, csv);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-sql-'));
  const stack = await startStack({ dataDir });
  const result: Json = { when: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, rows, runs: RUNS, queries: {} };
  try {
    say('ingesting through the stack…');
    const size = fs.statSync(csv).size;
    const pr = await fetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name: 'workers', size, filename: path.basename(csv) }) });
    const p = (await pr.json()) as Json;
    await promisify(execFile)('curl', ['-sS', '-f', '-T', csv, p.url, '-o', '/dev/null']);
    const st = await waitForUpload(stack.api, p.upload_id, 600_000);
    if (st.state !== 'ready') throw new Error(`ingest failed: ${JSON.stringify(st.error)}`);

    // this process talks to the stack's S3 server, as the stack's functions do
    Object.assign(process.env, stackEnv({ ...stack, dataDir }));
    const { readHead, versionKey } = await import('../lib/catalog/store.js');
    const { downloadToFile, headObject } = await import('../lib/storage/objects.js');
    const { keyExists } = await import('../lib/storage/exists.js');
    const { createInstance } = await import('../lib/duckdb.js');
    const { handler } = await import('../functions/sql.js');
    const { httpEvent, lambdaContext } = await import('../test/helpers/lambda.js');
    const m = (await readHead('workers'))!;
    const parquet = path.join(dataDir, 'workers.parquet');
    await downloadToFile(m.objects[0]!.key, parquet);
    const probeKey = versionKey('workers', m.version + 1);
    const knownKey = versionKey('workers', m.version);
    const probeUrl = `${stack.s3}/${stack.bucket}/${probeKey.split('/').map(encodeURIComponent).join('/')}`;
    const agent = new http.Agent({ keepAlive: true });
    const raw = await createInstance('bench-raw');
    const rc = await raw.connect();
    await rc.run(`CREATE VIEW workers AS SELECT * FROM read_parquet('${parquet}')`);

    for (const [label, sql] of Object.entries(QUERIES)) {
      say(`${label}: ${RUNS} rounds…`);
      const call = () => handler(httpEvent({ method: 'POST', path: '/sql', body: { sql } }) as never, lambdaContext() as never) as Promise<Json>;
      const viaHttp = async () => {
        const r = await fetch(`${stack.api}/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
        await r.text();
        if (!r.ok) throw new Error(`/sql: HTTP ${r.status}`);
      };
      for (let i = 0; i < 5; i++) {
        await rc.runAndReadAll(sql);
        await plainHead(agent, probeUrl);
        await headObject(probeKey);
        await keyExists(probeKey, knownKey);
        await call();
        await viaHttp();
      }
      const s: Record<string, number[]> = { raw: [], head: [], sdkHead: [], probeHead: [], handler: [], fresh: [], exec: [], http: [] };
      const before = stack.output().length;
      for (let i = 0; i < RUNS; i++) {
        let t = performance.now();
        await rc.runAndReadAll(sql);
        s.raw!.push(performance.now() - t);
        s.head!.push(await plainHead(agent, probeUrl));
        t = performance.now();
        await headObject(probeKey);
        s.sdkHead!.push(performance.now() - t);
        t = performance.now();
        await keyExists(probeKey, knownKey);
        s.probeHead!.push(performance.now() - t);
        t = performance.now();
        const res = await call();
        s.handler!.push(performance.now() - t);
        if (res.statusCode !== 200) throw new Error(`handler: ${res.statusCode} ${res.body}`);
        const fresh = timingOf(res.headers['server-timing'], 'fresh');
        if (fresh !== undefined) s.fresh!.push(fresh);
        s.exec!.push(timingOf(res.headers['server-timing'], 'exec') ?? NaN);
        t = performance.now();
        await viaHttp();
        s.http!.push(performance.now() - t);
      }
      const offline = [...stack.output().slice(before).matchAll(/\(λ: sql\) RequestId: \S+\s+Duration: ([\d.]+) ms/g)].map((x) => Number(x[1]));
      const q: Json = Object.fromEntries(Object.entries(s).filter(([, v]) => v.length).map(([k, v]) => [k, stats(v)]));
      q.offline_duration = offline.length ? stats(offline) : null;
      q.target_ms = r2(1.2 * q.raw.p50 + q.head.p50 + 1);
      q.met = q.handler.p50 <= q.target_ms;
      result.queries[label] = q;
    }
    rc.closeSync();
    agent.destroy();
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  result.load_after = os.loadavg().map((x) => Math.round(x * 10) / 10);
  writeResults(values.out!, result);
  const head = ['query', 'handler p50/p95', 'fresh (probe) p50', 'exec p50', 'HTTP p50/p95', 'offline Duration p50', 'raw DuckDB p50/p95', 'plain HEAD p50', 'SDK HEAD p50', 'probe HEAD p50', 'target', ''];
  const lines = [head];
  for (const [k, q] of Object.entries<Json>(result.queries)) {
    lines.push([
      k,
      `${q.handler.p50} / ${q.handler.p95}`,
      `${q.fresh?.p50 ?? '-'}`,
      `${q.exec.p50}`,
      `${q.http.p50} / ${q.http.p95}`,
      `${q.offline_duration?.p50 ?? '-'}`,
      `${q.raw.p50} / ${q.raw.p95}`,
      `${q.head.p50}`,
      `${q.sdkHead.p50}`,
      `${q.probeHead.p50}`,
      `${q.target_ms}`,
      q.met ? 'met' : 'MISSED',
    ]);
  }
  const w = head.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  for (const l of lines) process.stdout.write(l.map((x, c) => x.padEnd(w[c]!)).join('  ') + '\n');
  process.stdout.write(`(ms; load average after: ${result.load_after.join(' ')}) written to ${values.out}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench:sql failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
