/**
 * The cost of publishing Iceberg metadata per commit (docs/BASELINE.md "Iceberg publishing"):
 * `npm run bench:iceberg`. Runs the embedded S3 server in a temp dir, writes small real Parquet
 * objects with DuckDB, and commits them through the real register path (create, then appends,
 * then a replace), timing each commit with and without publishing and reading the publisher's
 * request count. Conditional writes on (as on AWS and MinIO).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startS3Server } from '../localstack/s3-server.js';
import { ensureBucket, putObject } from '../lib/storage/objects.js';
import { commitObjects } from '../lib/catalog/register.js';
import { fingerprint } from '../lib/catalog/manifest.js';
import { publishVersion } from '../lib/iceberg/publish.js';

const SCHEMA = [
  { name: 'id', type: 'BIGINT', nullable: true },
  { name: 'label', type: 'VARCHAR', nullable: true },
  { name: 'x', type: 'DOUBLE', nullable: true },
];
const APPENDS = Number(process.env.BENCH_APPENDS ?? 50);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-iceberg-'));
const s3 = await startS3Server({ directory: path.join(dir, 's3'), conditionalWrites: true, silent: true });
process.env.S3_ENDPOINT = s3.endpoint;
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
process.env.LAKEHOUSE_BUCKET = 'bench';
process.env.LAKEHOUSE_CONDITIONAL_WRITES = 'on';
process.env.LAKEHOUSE_LOG_LEVEL = 'warn';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
await ensureBucket();

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
async function object(name: string, i: number, rows: number) {
  const file = path.join(dir, `${name}-${i}.parquet`);
  await con.run(`COPY (SELECT range AS id, 'row ' || range AS label, range / 7.0 AS x FROM range(${rows})) TO '${file}' (FORMAT parquet, FIELD_IDS {id: 1, label: 2, x: 3})`);
  const bytes = fs.readFileSync(file);
  const key = `datasets/${name}/${fingerprint(SCHEMA).slice(0, 16)}/${i}.parquet`;
  await putObject(key, bytes);
  return { key, size: bytes.length, row_count: rows };
}

async function commit(name: string, objects: Array<{ key: string; size: number; row_count: number }>, mode: 'replace' | 'append', publish: boolean) {
  process.env.LAKEHOUSE_ICEBERG = publish ? 'on' : 'off';
  const req = { name, schema: SCHEMA, schema_fingerprint: fingerprint(SCHEMA), objects, row_count: null, mode } as const;
  const t0 = performance.now();
  const r = await commitObjects(req);
  return { ms: performance.now() - t0, manifest: r.manifest };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
for (const publish of [false, true]) {
  const name = publish ? 'with_iceberg' : 'without_iceberg';
  const times: Record<string, number[]> = { create: [], append: [], replace: [] };
  const c = await commit(name, [await object(name, 0, 1000)], 'replace', publish);
  times.create!.push(c.ms);
  for (let i = 1; i <= APPENDS; i++) times.append!.push((await commit(name, [await object(name, i, 1000)], 'append', publish)).ms);
  const last = await commit(name, [await object(name, 9999, 1000)], 'replace', publish);
  times.replace!.push(last.ms);
  rows.push(`${name}: create ${c.ms.toFixed(0)} ms, append median ${median(times.append!).toFixed(0)} ms (first ${times.append![0]!.toFixed(0)}, last ${times.append!.at(-1)!.toFixed(0)}), replace ${last.ms.toFixed(0)} ms`);
}
// requests per publish: re-publish the same versions (publishVersion reports its requests)
process.env.LAKEHOUSE_ICEBERG = 'on';
const { readVersion } = await import('../lib/catalog/store.js');
for (const v of [1, 2, APPENDS + 1, APPENDS + 2]) {
  const m = (await readVersion('with_iceberg', v))!;
  const t0 = performance.now();
  const r = await publishVersion(m, 0);
  rows.push(`publish v${v} (${r.operation}, ${m.objects.length} objects): ${r.requests} requests, ${(performance.now() - t0).toFixed(0)} ms`);
}
console.log(rows.join('\n'));
con.closeSync();
await s3.close();
fs.rmSync(dir, { recursive: true, force: true });
