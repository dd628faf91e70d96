/**
 * `npm run bench:lifecycle` (also run by `npm run bench`) — the dataset-lifecycle numbers of
 * docs/BASELINE.md, in one run against a real embedded S3 server and the real handlers:
 *
 *   1. a dataset of many small objects (`--objects`, default 1,000) queried before and after
 *      compaction, beside the same rows in one object (the objects are registered in one commit:
 *      what matters is the shape the appends leave, not how it got there);
 *   2. a selective query on a 100-object dataset, with pruning and without (objects, bytes
 *      fetched and time, on a cold cache each);
 *   3. a commit (append of one object) to a dataset of 10 vs 10,000 objects, and the cold load of
 *      the head of the 10,000-object dataset after `--versions` (default 1,000) versions.
 *
 * Writes bench/lifecycle-results.json and prints a table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3Server } from '../localstack/s3-server.js';
import { type Json, benchArgs, writeResults } from './bench-common.js';

const values = benchArgs({
  objects: { type: 'string', default: '1000' },
  runs: { type: 'string', default: '7' },
  versions: { type: 'string', default: '1000' },
  out: { type: 'string', default: 'bench/lifecycle-results.json' },
});
const OBJECTS = Math.max(10, Number(values.objects));
const RUNS = Math.max(3, Number(values.runs));
const VERSIONS = Math.max(2, Number(values.versions));
const say = (s: string) => process.stderr.write(`[bench:lifecycle] ${s}\n`);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const ms = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

export async function benchLifecycle(): Promise<Json> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bench-lc-'));
  const s3 = await startS3Server({ directory: path.join(dir, 's3') });
  Object.assign(process.env, {
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    LAKEHOUSE_BUCKET: 'bench-lifecycle',
    LAKEHOUSE_TMP_DIR: path.join(dir, 'tmp'),
    LAKEHOUSE_LOG_LEVEL: 'warn',
    LAKEHOUSE_SQL_TIMEOUT_MS: '600000',
  });
  const { s3: client } = await import('../lib/storage/client.js');
  await client().send(new CreateBucketCommand({ Bucket: 'bench-lifecycle' }));
  const { uploadFile } = await import('../lib/storage/objects.js');
  const { commitObjects } = await import('../lib/catalog/register.js');
  const { compactDataset } = await import('../lib/catalog/compact.js');
  const { readHead } = await import('../lib/catalog/store.js');
  const { fingerprint } = await import('../lib/catalog/manifest.js');
  const { parquetFileStats } = await import('../lib/catalog/stats.js');
  const { handler: sqlFn } = await import('../functions/sql.js');
  const { resetEngine } = await import('../lib/query/engine.js');
  const { callHttp } = await import('../test/helpers/lambda.js');

  const schema = [
    { name: 'id', type: 'BIGINT', nullable: true },
    { name: 'region', type: 'VARCHAR', nullable: true },
    { name: 'amount', type: 'DOUBLE', nullable: true },
  ];
  const fp = fingerprint(schema);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const local = path.join(dir, 'parts');
  fs.mkdirSync(local);

  /** `n` objects of `per` rows each (ids consecutive), uploaded; returns their refs. */
  async function objects(name: string, n: number, per: number, withStats: boolean) {
    const refs = [];
    for (let i = 0; i < n; i++) {
      const f = path.join(local, `${name}-${i}.parquet`);
      await con.run(
        `COPY (SELECT (${i * per} + r)::BIGINT AS id, CASE r % 4 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east' ELSE 'west' END AS region, (r * 1.5)::DOUBLE AS amount FROM range(${per}) t(r)) TO '${f}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      const key = `datasets/${name}/${fp.slice(0, 16)}/o${i}.parquet`;
      await uploadFile(key, f, 'application/vnd.apache.parquet');
      refs.push({ key, size: fs.statSync(f).size, row_count: per, ...(withStats ? { stats: await parquetFileStats(con, f, schema) } : {}) });
      fs.rmSync(f);
    }
    return refs;
  }
  const register = (name: string, objs: Json[], mode: 'replace' | 'append' = 'replace') =>
    commitObjects({ name, schema, schema_fingerprint: fp, objects: objs as never, row_count: null, mode });
  const sql = (q: string) => callHttp(sqlFn, { method: 'POST', path: '/sql', body: { sql: q } });
  /** Median of warm runs after one cold run (engine and cache reset). */
  async function query(q: string): Promise<{ cold: number; warm: number; answer: unknown; scan: Json }> {
    await resetEngine();
    fs.rmSync(path.join(dir, 'tmp', 'cache'), { recursive: true, force: true });
    let answer: unknown;
    let scan: Json = {};
    const cold = await ms(async () => {
      const r = await sql(q);
      answer = r.json.rows;
      scan = { objects_scanned: r.json.objects_scanned, objects_total: r.json.objects_total, bytes_fetched: r.json.bytes_fetched };
    });
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(await ms(() => sql(q)));
    return { cold, warm: median(warm), answer, scan };
  }

  const out: Json = { objects: OBJECTS };
  const PER = 1000;
  const q = 'SELECT region, count(*), sum(amount) FROM "%s" GROUP BY 1 ORDER BY 1';

  say(`1. ${OBJECTS} objects of ${PER} rows vs compacted vs one object…`);
  await register('many', await objects('many', OBJECTS, PER, true));
  await con.run(
    `COPY (SELECT r::BIGINT AS id, CASE (r % ${PER}) % 4 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east' ELSE 'west' END AS region, ((r % ${PER}) * 1.5)::DOUBLE AS amount FROM range(${OBJECTS * PER}) t(r)) TO '${path.join(local, 'one.parquet')}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  await uploadFile(`datasets/one/${fp.slice(0, 16)}/all.parquet`, path.join(local, 'one.parquet'), 'application/vnd.apache.parquet');
  await register('one', [{ key: `datasets/one/${fp.slice(0, 16)}/all.parquet`, size: fs.statSync(path.join(local, 'one.parquet')).size, row_count: OBJECTS * PER }]);
  const before = await query(q.replace('%s', 'many'));
  const t0 = performance.now();
  const c = await compactDataset('many');
  const compactMs = performance.now() - t0;
  const after = await query(q.replace('%s', 'many'));
  const single = await query(q.replace('%s', 'one'));
  if (JSON.stringify(before.answer) !== JSON.stringify(after.answer) || JSON.stringify(after.answer) !== JSON.stringify(single.answer)) {
    throw new Error(`compaction changed the answer: ${JSON.stringify([before.answer, after.answer, single.answer])}`);
  }
  out.compaction = {
    query_ms: { before: before, after: after, single_object: single },
    compact_ms: Math.round(compactMs),
    objects_after: c.objects_after,
  };

  say('2. a selective query on 100 objects, pruned and not…');
  await register('pruned', await objects('pruned', 100, PER, true));
  await register('unpruned', await objects('unpruned', 100, PER, false)); // no statistics: nothing can be pruned
  const sel = 'SELECT count(*), sum(amount) FROM "%s" WHERE id BETWEEN 42000 AND 42999';
  const pruned = await query(sel.replace('%s', 'pruned'));
  const unpruned = await query(sel.replace('%s', 'unpruned'));
  if (JSON.stringify(pruned.answer) !== JSON.stringify(unpruned.answer)) throw new Error('pruning changed the answer');
  out.pruning = { pruned, unpruned };

  say(`3. commit cost at 10 vs 10,000 objects; ${VERSIONS} appends, then the cold load of the head…`);
  // the catalog commit alone: Iceberg publishing (its own cost: npm run bench:iceberg) would read
  // the footers of these objects, which do not exist here
  process.env.LAKEHOUSE_ICEBERG = 'off';
  const commitCost = async (name: string, n: number, appends: number) => {
    const base = Array.from({ length: n }, (_, i) => ({ key: `datasets/${name}/${fp.slice(0, 16)}/x${i}.parquet`, size: 1000, row_count: PER }));
    // objects need not exist for a commit's cost (commitObjects does not HEAD them; register would)
    await register(name, base);
    const times: number[] = [];
    for (let i = 0; i < appends; i++) {
      times.push(await ms(() => register(name, [{ key: `datasets/${name}/${fp.slice(0, 16)}/add${i}.parquet`, size: 1000, row_count: PER }], 'append')));
    }
    const load: number[] = [];
    for (let i = 0; i < RUNS; i++) load.push(await ms(() => readHead(name)));
    const head = (await readHead(name))!;
    return { commit_ms: Math.round(median(times)), commit_p95_ms: Math.round([...times].sort((a, b) => a - b)[Math.floor(times.length * 0.95)]!), head_load_ms: Math.round(median(load)), versions: head.version, objects: head.objects.length };
  };
  out.commit = { objects_10: await commitCost('c10', 10, RUNS), objects_10000: await commitCost('c10k', 10_000, VERSIONS - 1) };

  con.closeSync();
  db.closeSync();
  await resetEngine();
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

function print(r: Json): void {
  const f = (n: number) => `${Math.round(n)} ms`;
  const c = r.compaction.query_ms;
  const rows = [
    [`GROUP BY over ${r.objects} objects (cold / warm)`, `${f(c.before.cold)} / ${f(c.before.warm)}`],
    [`… after compaction into ${r.compaction.objects_after} (cold / warm)`, `${f(c.after.cold)} / ${f(c.after.warm)}`],
    ['… the same rows loaded as one object (cold / warm)', `${f(c.single_object.cold)} / ${f(c.single_object.warm)}`],
    ['compaction itself', f(r.compaction.compact_ms)],
    [`selective query, pruned: objects, bytes, cold / warm`, `${r.pruning.pruned.scan.objects_scanned}/${r.pruning.pruned.scan.objects_total}, ${r.pruning.pruned.scan.bytes_fetched} B, ${f(r.pruning.pruned.cold)} / ${f(r.pruning.pruned.warm)}`],
    [`… without statistics`, `${r.pruning.unpruned.scan.objects_scanned}/${r.pruning.unpruned.scan.objects_total}, ${r.pruning.unpruned.scan.bytes_fetched} B, ${f(r.pruning.unpruned.cold)} / ${f(r.pruning.unpruned.warm)}`],
    ['append commit at 10 / 10,000 objects (median)', `${f(r.commit.objects_10.commit_ms)} / ${f(r.commit.objects_10000.commit_ms)}`],
    [`cold head load: 10 objects / ${r.commit.objects_10000.objects} objects, ${r.commit.objects_10000.versions} versions`, `${f(r.commit.objects_10.head_load_ms)} / ${f(r.commit.objects_10000.head_load_ms)}`],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k!.padEnd(58)} ${v}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await benchLifecycle();
  writeResults(values.out!, r);
  print(r);
}
