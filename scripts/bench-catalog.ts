/**
 * `npm run bench:catalog` (also run at the end of `npm run bench`) — "Catalog size" in
 * docs/BASELINE.md: what grows with the number of datasets, through the real local stack
 * (localstack/stack.ts: serverless-offline + the embedded S3 server), at `--small` (default 10)
 * and `--large` (default 5,000) datasets:
 *
 *   GET /catalog/manifests (first page; every page at limit=1000; the first listing after the
 *   datasets were created, which catches up on their change markers), POST /uploads (presign),
 *   a small ingest PUT → ready, GET /uploads/{id}, and POST /sql (the first query of a fresh
 *   stack: engine cold start; then warm), plus the old listing (every name's head: loadCatalog)
 *   in this process for the before/after.
 *
 * Datasets are created cheaply: one commit each through lib/catalog (commitObjects, as the ingest
 * commits, change marker included) against the stack's S3 server, without data objects (never
 * queried); the dataset that /sql reads is a real upload. Writes bench/catalog-results.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type Stack } from '../localstack/stack.js';
import { seedSchema, type Json, benchArgs, writeResults } from './bench-common.js';

const values = benchArgs({
  small: { type: 'string', default: '10' },
  large: { type: 'string', default: '5000' },
  runs: { type: 'string', default: '9' },
  out: { type: 'string', default: 'bench/catalog-results.json' },
});
const SIZES = [Number(values.small), Number(values.large)];
const RUNS = Math.max(3, Number(values.runs));
const say = (s: string) => process.stderr.write(`[bench:catalog] ${s}\n`);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const r1 = (n: number) => Math.round(n * 10) / 10;
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}
async function medianOf(fn: () => Promise<unknown>): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) t.push((await timed(fn)).ms);
  return r1(median(t));
}

async function api(stack: Stack, method: string, p: string, body?: unknown): Promise<Json> {
  const r = await fetch(`${stack.api}${p}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const j = (await r.json()) as Json;
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(j).slice(0, 300)}`);
  return j;
}

async function allPages(stack: Stack): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const j = await api(stack, 'GET', `/catalog/manifests?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    n += j.datasets.length;
    cursor = j.next_cursor;
  } while (cursor);
  return n;
}

let pollErrors = 0;
const MARGIN_WAIT_MS = 70_000;
const CSV = 'id,city,amount\n1,Oslo,10.5\n2,Lima,3.25\n3,Pune,7\n';

/** POST /uploads → PUT → polled until ready; returns the times. */
async function ingest(stack: Stack, name: string): Promise<{ presign_ms: number; put_to_ready_ms: number; id: string }> {
  const size = Buffer.byteLength(CSV);
  const p = await timed(() => api(stack, 'POST', '/uploads', { name, size, filename: `${name}.csv` }));
  const t = performance.now();
  const put = await fetch(p.value.url, { method: 'PUT', body: CSV, headers: { 'content-length': String(size) } });
  if (!put.ok) throw new Error(`PUT: ${put.status}`);
  for (let errors = 0; ; ) {
    // the embedded server can serve a status record while it is being rewritten (a 500/503 here):
    // poll again, a few times
    const s = await api(stack, 'GET', `/uploads/${p.value.upload_id}`).catch((e: unknown) => {
      if (++errors > 5) throw e;
      pollErrors++;
      return { state: 'retry' } as Json;
    });
    if (s.state === 'ready') break;
    if (s.state === 'failed') throw new Error(`ingest failed: ${JSON.stringify(s.error)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { presign_ms: r1(p.ms), put_to_ready_ms: r1(performance.now() - t), id: p.value.upload_id };
}

async function seed(from: number, to: number): Promise<number> {
  const { commitObjects } = await import('../lib/catalog/register.js');
  const { mapLimit } = await import('../lib/catalog/store.js');
  const { schema, fp } = await seedSchema();
  const t = performance.now();
  const names = Array.from({ length: to - from }, (_, i) => `ds_${String(from + i).padStart(5, '0')}`);
  await mapLimit(names, 16, (name) =>
    commitObjects({ name, schema, schema_fingerprint: fp, objects: [{ key: `datasets/${name}/${fp.slice(0, 16)}/seed.parquet`, size: 1000, row_count: 10 }], row_count: 10, mode: 'replace' }),
  );
  return r1(performance.now() - t);
}

async function measure(stack: Stack, datasets: number): Promise<Json> {
  const out: Json = { datasets };
  // the first request of a fresh stack: /sql's engine cold start, the listing's catch-up
  const first = await timed(() => api(stack, 'GET', '/catalog/manifests'));
  out.list_first_request_ms = r1(first.ms);
  out.sql_first_ms = r1((await timed(() => api(stack, 'POST', '/sql', { sql: 'SELECT sum(amount) AS s FROM bench_probe' }))).ms);
  out.list_first_page_ms = await medianOf(() => api(stack, 'GET', '/catalog/manifests'));
  const all = await timed(() => allPages(stack));
  out.list_all_pages_count = all.value;
  out.list_all_pages_ms = await medianOf(() => allPages(stack));
  out.sql_warm_ms = await medianOf(() => api(stack, 'POST', '/sql', { sql: 'SELECT sum(amount) AS s FROM bench_probe' }));
  const ing: Array<{ presign_ms: number; put_to_ready_ms: number; id: string }> = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) ing.push(await ingest(stack, 'bench_probe_more'));
  out.presign_ms = r1(median(ing.map((x) => x.presign_ms)));
  out.put_to_ready_ms = r1(median(ing.map((x) => x.put_to_ready_ms)));
  out.status_ms = await medianOf(() => api(stack, 'GET', `/uploads/${ing[0]!.id}`));
  // before: the old listing (every name's head, 32 in flight), in this process
  const { loadCatalog } = await import('../lib/catalog/store.js');
  out.old_listing_in_process_ms = r1((await timed(() => loadCatalog())).ms);
  const { catalogState, resetListingMemo } = await import('../lib/catalog/listing.js');
  resetListingMemo();
  out.new_listing_in_process_cold_ms = r1((await timed(() => catalogState())).ms);
  out.new_listing_in_process_warm_ms = await medianOf(() => catalogState());
  return out;
}

const WIDE = 10_000;

async function wide(old: Stack, dataDir: string): Promise<Json> {
  const { catalogState } = await import('../lib/catalog/listing.js');
  const { writeWatermarkedSnapshot } = await import('../lib/catalog/snapshot.js');
  const { storeNow } = await import('../lib/storage/clock.js');
  const now = await catalogState();
  const extra = Array.from({ length: WIDE - now.manifests.length }, (_, i) => {
    const m = now.manifests.find((x) => x.name.startsWith('ds_'))!;
    const name = `syn_${String(i).padStart(5, '0')}`;
    return { ...m, name, objects: m.objects.map((o) => ({ ...o, key: o.key.replace(m.name, name) })) };
  });
  const key = await writeWatermarkedSnapshot(storeNow() - 1000, [...now.manifests, ...extra], []);
  await old.stop();
  const stack = await startStack({ dataDir });
  process.env.S3_ENDPOINT = stack.s3;
  const out: Json = { datasets: now.manifests.length + extra.length, snapshot: key, stack };
  out.list_first_request_cold_function_ms = r1((await timed(() => api(stack, 'GET', '/catalog/manifests'))).ms);
  out.list_first_page_ms = await medianOf(() => api(stack, 'GET', '/catalog/manifests'));
  out.list_all_pages_count = await allPages(stack);
  out.list_all_pages_ms = await medianOf(() => allPages(stack));
  return out;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-catalog-'));
  const results: Json = { runs: RUNS, when: new Date().toISOString(), cpus: os.cpus().length, sizes: [] };
  let stack = await startStack({ dataDir });
  try {
    process.env.S3_ENDPOINT = stack.s3;
    process.env.LAKEHOUSE_BUCKET = stack.bucket;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.LAKEHOUSE_ICEBERG = 'off'; // seeded datasets have no data objects to publish
    process.env.LAKEHOUSE_LOG_LEVEL ??= 'warn';
    await ingest(stack, 'bench_probe');
    let have = 2; // bench_probe, bench_probe_more (created by the first measurement's ingests)
    for (const n of SIZES) {
      say(`creating datasets up to ${n}…`);
      const seedMs = await seed(Math.max(0, have - 2), Math.max(0, n - 2));
      have = Math.max(have, n);
      // the listing's margin: markers of the last minute are listed by every listing until a snapshot
      // newer than them exists; steady state is measured past it (the first listing then catches up)
      await new Promise((r) => setTimeout(r, MARGIN_WAIT_MS));
      await stack.stop();
      stack = await startStack({ dataDir }); // fresh workers: cold engines, nothing in memory
      process.env.S3_ENDPOINT = stack.s3; // a new port each start
      say(`measuring at ${n} datasets…`);
      results.sizes.push({ ...(await measure(stack, n)), seed_ms: seedMs });
    }
    // 10,000: the 5,000 above plus 5,000 synthetic entries written into a watermarked snapshot
    // (no version files: a listing reads only the snapshot for them), then a fresh stack
    say(`listing at ${WIDE} datasets (snapshot)…`);
    try {
      results.wide = await wide(stack, dataDir);
      stack = results.wide.stack;
      delete results.wide.stack;
    } catch (e) {
      results.wide = { error: String(e) };
      say(`the ${WIDE}-dataset listing failed: ${e}`);
    }
  } catch (e) {
    say(`stack errors:\n${stack.output().split("\n").filter((l) => /error|Error/.test(l)).slice(-20).join("\n")}`);
    throw e;
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  results.status_poll_errors = pollErrors;
  writeResults(values.out!, results);
  const rows: Array<[string, string]> = [
    ['GET /catalog/manifests, first request after the datasets were created: catch-up (ms)', 'list_first_request_ms'],
    ['GET /catalog/manifests, first page, p50 (ms)', 'list_first_page_ms'],
    ['GET /catalog/manifests, every page at limit=1000, p50 (ms)', 'list_all_pages_ms'],
    ['old listing (every head), in process (ms)', 'old_listing_in_process_ms'],
    ['new listing, in process, cold / warm (ms)', 'new_listing_in_process_cold_ms'],
    ['POST /uploads (presign), p50 (ms)', 'presign_ms'],
    ['ingest PUT → ready, p50 (ms)', 'put_to_ready_ms'],
    ['GET /uploads/{id}, p50 (ms)', 'status_ms'],
    ['POST /sql, first of a fresh stack, after npm start warmed the engine (ms)', 'sql_first_ms'],
    ['POST /sql, warm p50 (ms)', 'sql_warm_ms'],
  ];
  const s = results.sizes as Json[];
  process.stdout.write(`measure | ${s.map((x) => `${x.datasets} datasets`).join(' | ')}\n`);
  for (const [label, k] of rows) {
    const cell = (x: Json) => (k === 'new_listing_in_process_cold_ms' ? `${x[k]} / ${x.new_listing_in_process_warm_ms}` : String(x[k]));
    process.stdout.write(`${label} | ${s.map(cell).join(' | ')}\n`);
  }
  const w = results.wide as Json | undefined;
  if (w) {
    process.stdout.write(`\n${w.datasets} datasets (snapshot): first request of a fresh function ${w.list_first_request_cold_function_ms} ms; first page p50 ${w.list_first_page_ms} ms; `);
    process.stdout.write(`every page (${w.list_all_pages_count}) p50 ${w.list_all_pages_ms} ms\n`);
  }
  process.stdout.write(`written to ${values.out}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
