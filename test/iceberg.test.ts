/**
 * Issue 14: every committed version (ingest create, append, register append, replace) is also an
 * Iceberg v2 table. Each version's metadata is validated against the Iceberg REST OpenAPI
 * document's TableMetadata schema, its data files and row counts are compared with our manifest's,
 * and its rows — read by icebird (npm), not by our code — are compared with /sql's answer.
 * Real embedded S3 server, real DuckDB, handlers through their entry points.
 */
import { describe, it, expect, beforeAll, inject } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet';
import { icebergManifests, icebergMetadata } from 'icebird';
import { handler as registerFn } from '../functions/register.js';
import { handler as sqlFn } from '../functions/sql.js';
import { callHttp } from './helpers/lambda.js';
import { freshBucket } from './helpers/s3.js';
import { upload } from './helpers/ingest.js';
import { icebergSchemaProblems, readWithIcebird, withLocalS3 } from './helpers/iceberg.js';
import { scopedEnv } from './helpers/env.js';
import { getJson, getObjectBytes, headObject, listAll, putObject } from '../lib/storage/objects.js';
import { readHead } from '../lib/catalog/store.js';
import { fingerprint, type StoredManifest } from '../lib/catalog/manifest.js';
import { decodeAvro } from '../lib/iceberg/manifest-avro.js';
import { afterCommit, prefetchPublish, publishAll } from '../lib/iceberg/publish.js';
import { describeDataFile } from '../lib/iceberg/stats.js';
import { icebergFields } from '../lib/iceberg/schema.js';
import type { TableMetadata } from '../lib/iceberg/types.js';
import { resetEngine } from '../lib/query/engine.js';

const setEnv = scopedEnv();
const endpoint = inject('s3Endpoint');
let bucket: string;

const HEADER = 'id,name,score,active,day,at\n';
const SCHEMA = [
  { name: 'id', type: 'BIGINT' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'score', type: 'DOUBLE' },
  { name: 'active', type: 'BOOLEAN' },
  { name: 'day', type: 'DATE' },
  { name: 'at', type: 'TIMESTAMP' },
];

beforeAll(async () => {
  bucket = await freshBucket('ice');
  await resetEngine();
});

async function sqlRows(q: string): Promise<unknown[][]> {
  const r = await callHttp(sqlFn, { method: 'POST', path: '/sql', body: { sql: q } });
  if (r.status !== 200) throw new Error(`${r.status} ${r.text}`);
  return r.json.rows as unknown[][];
}

/** One cell as text, the same way for /sql's JSON and icebird's JS values. */
function cell(v: unknown, type: string): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    const iso = v.toISOString();
    return type === 'DATE' ? iso.slice(0, 10) : iso.replace('T', ' ').replace(/(\.000)?Z$/, '');
  }
  return String(v);
}

const sorted = (rows: Array<Array<string | null>>) => rows.map((r) => JSON.stringify(r)).sort();

/** /sql's rows for the dataset's current version (dates and timestamps as text). */
async function sqlAnswer(name: string): Promise<string[]> {
  const cols = SCHEMA.map((c) => (c.type === 'DATE' || c.type === 'TIMESTAMP' ? `CAST("${c.name}" AS VARCHAR)` : `"${c.name}"`)).join(', ');
  const rows = await sqlRows(`SELECT ${cols} FROM "${name}"`);
  return sorted(rows.map((r) => r.map((v, i) => cell(v, SCHEMA[i]!.type))));
}

async function icebirdAnswer(name: string, version: number): Promise<string[]> {
  const rows = await readWithIcebird(endpoint, `s3://${bucket}/datasets/${name}`, `v${version}.metadata.json`);
  return sorted(rows.map((r) => SCHEMA.map((c) => cell(r[c.name], c.type))));
}

async function metadataOf(name: string, version: number): Promise<TableMetadata> {
  const m = await getJson<TableMetadata>(`datasets/${name}/metadata/v${version}.metadata.json`);
  if (!m) throw new Error(`no metadata for ${name} v${version}`);
  return m;
}

/** Checks version `m` of a dataset: spec-valid metadata, same files and counts, same rows as /sql. */
async function checkVersion(m: StoredManifest, operation: 'append' | 'overwrite') {
  const meta = await metadataOf(m.name, m.version);
  expect(icebergSchemaProblems('TableMetadata', meta)).toEqual([]);
  expect(meta['format-version']).toBe(2);
  expect(meta['table-uuid']).toBe(m.dataset_id);
  expect(meta.location).toBe(`s3://${bucket}/datasets/${m.name}`);
  expect(meta['last-sequence-number']).toBe(m.version);
  expect(meta.snapshots).toHaveLength(m.version);
  expect(meta['snapshot-log']).toHaveLength(m.version);
  expect(meta['metadata-log'].map((l) => l['metadata-file'])).toEqual(
    Array.from({ length: m.version - 1 }, (_, i) => `s3://${bucket}/datasets/${m.name}/metadata/v${i + 1}.metadata.json`),
  );
  const snap = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id'])!;
  expect(snap['sequence-number']).toBe(m.version);
  expect(snap.summary.operation).toBe(operation);
  expect(snap.summary['total-records']).toBe(String(m.row_count));
  expect(snap.summary['total-data-files']).toBe(String(m.objects.length));
  expect(meta.refs.main!['snapshot-id']).toBe(snap['snapshot-id']);
  const schema = meta.schemas.find((s) => s['schema-id'] === meta['current-schema-id'])!;
  expect(schema.fields.map((f) => [f.id, f.name, f.type])).toEqual([
    [1, 'id', 'long'], [2, 'name', 'string'], [3, 'score', 'double'], [4, 'active', 'boolean'], [5, 'day', 'date'], [6, 'at', 'timestamp'],
  ]);
  expect(JSON.parse(meta.properties['schema.name-mapping.default']!)).toEqual(schema.fields.map((f) => ({ 'field-id': f.id, names: [f.name] })));

  // the manifests, read by icebird: exactly our objects, exact sizes and row counts
  const manifests = await withLocalS3(endpoint, () => icebergManifests(meta as never));
  const files = manifests.flatMap((x) => x.entries.filter((e) => e.status !== 2).map((e) => e.data_file));
  const ours = m.objects.map((o) => [`s3://${bucket}/${o.key}`, o.size, o.row_count]).sort();
  expect(files.map((f) => [f.file_path, Number(f.file_size_in_bytes), Number(f.record_count)]).sort()).toEqual(ours);
  for (const f of files) {
    expect(f.file_format).toBe('PARQUET');
    expect((f.null_value_counts as unknown as unknown[]).length).toBe(schema.fields.length);
  }
  // the Avro files carry the spec's field ids and required file metadata
  const listKey = snap['manifest-list'].slice(`s3://${bucket}/`.length);
  const list = await decodeAvro<{ manifest_path: string }>((await getObjectBytes(listKey))!);
  expect(JSON.parse(list.metadata['avro.schema']!).fields.map((f: { 'field-id': number }) => f['field-id'])).toEqual(
    [500, 501, 502, 517, 515, 516, 503, 504, 505, 506, 512, 513, 514, 507, 519],
  );
  const manifestKey = list.records.at(-1)!.manifest_path.slice(`s3://${bucket}/`.length);
  const manifest = await decodeAvro((await getObjectBytes(manifestKey))!);
  for (const k of ['schema', 'schema-id', 'partition-spec', 'partition-spec-id', 'format-version', 'content']) expect(manifest.metadata[k]).toBeDefined();
  expect(manifest.metadata['format-version']).toBe('2');
  expect(manifest.metadata.content).toBe('data');

  // an independent reader returns what /sql returns
  expect(await icebirdAnswer(m.name, m.version)).toEqual(await sqlAnswer(m.name));
}

/** A Parquet object written by DuckDB without field ids (as every object before this change was). */
async function oldObject(name: string, rows: string): Promise<{ key: string; size: number; row_count: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ice-old-'));
  const file = path.join(dir, 'old.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(
    `COPY (SELECT * FROM (VALUES ${rows}) t(id, name, score, active, day, "at")) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  con.closeSync();
  const bytes = fs.readFileSync(file);
  const key = `datasets/${name}/${fingerprint(SCHEMA).slice(0, 16)}/old-object.parquet`;
  await putObject(key, bytes);
  fs.rmSync(dir, { recursive: true, force: true });
  return { key, size: bytes.length, row_count: 2 };
}

describe('Iceberg metadata at every commit', () => {
  it('ingest create, ingest append, register append (an object without field ids), replace', async () => {
    const v1 = await upload(HEADER + '1,alpha,1.5,true,2024-01-02,2024-01-02 03:04:05\n2,beta,,false,2024-02-03,\n3,,2.25,true,,2024-03-04 05:06:07\n', { name: 'ice' });
    expect(v1.status.state).toBe('ready');
    let m = (await readHead('ice'))!;
    expect(m.version).toBe(1);
    await checkVersion(m, 'overwrite');

    // its manifest entry (read by icebird) has the data's bounds and null counts, in Iceberg's binary form
    const meta1 = await metadataOf('ice', 1);
    const [entry] = (await withLocalS3(endpoint, () => icebergManifests(meta1 as never))).flatMap((x) => x.entries);
    // icebird returns Iceberg's int-keyed maps as they are stored: arrays of {key, value}
    const map = (m: unknown) => Object.fromEntries((m as Array<{ key: number; value: unknown }>).map((e) => [e.key, e.value]));
    const raw = entry!.data_file;
    const df = { lower_bounds: map(raw.lower_bounds), upper_bounds: map(raw.upper_bounds), null_value_counts: map(raw.null_value_counts), value_counts: map(raw.value_counts) };
    const bytes1 = (v: unknown) => Buffer.from(v as Uint8Array);
    const days = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
    expect(bytes1(df.lower_bounds![1]).readBigInt64LE()).toBe(1n);
    expect(bytes1(df.upper_bounds![1]).readBigInt64LE()).toBe(3n);
    expect(bytes1(df.lower_bounds![3]).readDoubleLE()).toBe(1.5);
    expect(bytes1(df.upper_bounds![3]).readDoubleLE()).toBe(2.25);
    expect(bytes1(df.lower_bounds![5]).readInt32LE()).toBe(days('2024-01-02'));
    expect(bytes1(df.upper_bounds![5]).readInt32LE()).toBe(days('2024-02-03'));
    expect(bytes1(df.lower_bounds![6]).readBigInt64LE()).toBe(BigInt(Date.parse('2024-01-02T03:04:05Z')) * 1000n);
    expect(bytes1(df.upper_bounds![6]).readBigInt64LE()).toBe(BigInt(Date.parse('2024-03-04T05:06:07Z')) * 1000n);
    expect(Object.fromEntries(Object.entries(df.null_value_counts!).map(([k, v]) => [k, Number(v)]))).toEqual({ 1: 0, 2: 0, 3: 1, 4: 0, 5: 1, 6: 1 });
    expect(Object.values(df.value_counts as Record<string, bigint>).map(Number)).toEqual([3, 3, 3, 3, 3, 3]);

    // the ingested object carries Iceberg field ids 1..6
    const bytes = (await getObjectBytes(m.objects[0]!.key))!;
    const pq = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(pq.schema.slice(1).map((s) => [s.name, s.field_id])).toEqual(SCHEMA.map((c, i) => [c.name, i + 1]));

    await upload(HEADER + '4,delta,-3.5,false,2024-04-05,2024-04-05 06:07:08\n', { name: 'ice', mode: 'append' });
    m = (await readHead('ice'))!;
    expect(m.version).toBe(2);
    await checkVersion(m, 'append');

    const old = await oldObject('ice', `(5::BIGINT, 'eps'::VARCHAR, 0.5::DOUBLE, true, DATE '2024-05-06', TIMESTAMP '2024-05-06 07:08:09'), (6, 'zeta', NULL, NULL, NULL, NULL)`);
    const r = await callHttp(registerFn, { method: 'POST', path: '/catalog/register', body: { name: 'ice', schema: SCHEMA, objects: [old], mode: 'append' } });
    expect(r.status).toBe(200);
    m = (await readHead('ice'))!;
    expect(m.version).toBe(3);
    await checkVersion(m, 'append');

    await upload(HEADER + '10,kappa,10.5,true,2025-01-01,2025-01-01 00:00:01\n', { name: 'ice' });
    m = (await readHead('ice'))!;
    expect(m.version).toBe(4);
    await checkVersion(m, 'overwrite');
    // time travel: an older version still reads as it was
    expect(await icebirdAnswer('ice', 2)).toHaveLength(4);
    // readers that open the table directory find the newest version through version-hint.text
    const latest = await withLocalS3(endpoint, () => icebergMetadata({ tableUrl: `s3://${bucket}/datasets/ice` }));
    expect(latest['last-sequence-number']).toBe(4);
  }, 120_000);

  it('the footer of an object just uploaded is read from its local file, with the same result, and a prefetch counts only for its own manifest', async () => {
    await upload(HEADER + '1,a,1.5,true,2024-01-01,2024-01-01 00:00:00\n2,b,-2,false,2023-12-31,\n', { name: 'local_footer' });
    const m = (await readHead('local_footer'))!;
    const o = m.objects[0]!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ice-local-'));
    const local = path.join(dir, 'copy.parquet');
    fs.writeFileSync(local, (await getObjectBytes(o.key))!);
    try {
      const fields = icebergFields(m.schema);
      const remote = await describeDataFile(o.key, `s3://${bucket}/${o.key}`, o.size, fields);
      const fromFile = await describeDataFile(o.key, `s3://${bucket}/${o.key}`, o.size, fields, local);
      expect(remote.requests).toBe(1);
      expect(fromFile.requests).toBe(0);
      expect(fromFile.file).toEqual(remote.file);
      expect(fromFile.file.lowerBounds.size).toBe(6);

      // publishing the version again (its metadata exists: the write is refused and that is fine):
      // with the prefetch made for this manifest, no footer GET; one made for a copy is not used
      const files = new Map([[o.key, local]]);
      const own = await afterCommit(m, prefetchPublish(m, files));
      const other = await afterCommit(m, prefetchPublish({ ...m }, files));
      expect(own?.metadataLocation).toBe(`s3://${bucket}/datasets/local_footer/metadata/v1.metadata.json`);
      expect(other!.requests - own!.requests).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a prefetch only reads: a commit that never happens (a lost race) replays and writes nothing', async () => {
    setEnv('LAKEHOUSE_ICEBERG', 'off');
    await upload(HEADER + '1,a,1.5,true,2024-01-01,2024-01-01 00:00:00\n', { name: 'unreplayed' });
    setEnv('LAKEHOUSE_ICEBERG', 'on');
    const v1 = (await readHead('unreplayed'))!;
    expect(await headObject('datasets/unreplayed/metadata/v1.metadata.json')).toBeUndefined();
    // the version a losing writer was about to commit: its prefetch runs, its commit does not
    const pre = prefetchPublish({ ...v1, version: 2 });
    await pre!.previous;
    expect((await listAll('datasets/unreplayed/metadata/')).objects).toEqual([]);
    // the version that is committed replays the missing one itself
    const r = await afterCommit({ ...v1, version: 2 }, undefined);
    expect(r?.replayed).toBe(1);
    expect(await headObject('datasets/unreplayed/metadata/v1.metadata.json')).toBeDefined();
  });

  it('a failed publish is repaired by the next commit (replay), and by publishAll', async () => {
    setEnv('LAKEHOUSE_ICEBERG', 'off');
    await upload(HEADER + '1,a,1.5,true,2024-01-01,2024-01-01 00:00:00\n', { name: 'lagging' });
    await upload(HEADER + '2,b,2.5,true,2024-01-02,2024-01-02 00:00:00\n', { name: 'lagging', mode: 'append' });
    expect(await headObject('datasets/lagging/metadata/v1.metadata.json')).toBeUndefined();
    setEnv('LAKEHOUSE_ICEBERG', 'on');
    await upload(HEADER + '3,c,3.5,true,2024-01-03,2024-01-03 00:00:00\n', { name: 'lagging', mode: 'append' });
    const m = (await readHead('lagging'))!;
    expect(m.version).toBe(3);
    await checkVersion(m, 'append');
    expect((await metadataOf('lagging', 1)).snapshots[0]!.summary.operation).toBe('overwrite');

    setEnv('LAKEHOUSE_ICEBERG', 'off');
    await upload(HEADER + '4,d,4.5,true,2024-01-04,2024-01-04 00:00:00\n', { name: 'lagging', mode: 'append' });
    setEnv('LAKEHOUSE_ICEBERG', 'on');
    const results = await publishAll(['lagging']);
    expect(results.map((x) => [x.version, x.operation])).toEqual([[4, 'append']]);
    await checkVersion((await readHead('lagging'))!, 'append');
  }, 120_000);

  it('a replace that installs another schema (schema_change "overwrite") adds a schema and switches to it', async () => {
    await upload('a,b\n1,x\n', { name: 'evo' });
    await upload('c,a\n2024-01-01,2.5\n2024-01-02,\n', { name: 'evo', schema_change: 'overwrite' });
    const meta = await metadataOf('evo', 2);
    expect(icebergSchemaProblems('TableMetadata', meta)).toEqual([]);
    expect(meta.schemas.map((x) => [x['schema-id'], x.fields.map((f) => `${f.id}:${f.name}:${f.type}`)])).toEqual([
      [0, ['1:a:long', '2:b:string']],
      [1, ['1:c:date', '2:a:double']],
    ]);
    expect(meta['current-schema-id']).toBe(1);
    expect(meta.snapshots.map((x) => [x['schema-id'], x.summary.operation])).toEqual([[0, 'overwrite'], [1, 'overwrite']]);
    expect(JSON.parse(meta.properties['schema.name-mapping.default']!)).toEqual([{ 'field-id': 1, names: ['c'] }, { 'field-id': 2, names: ['a'] }]);
    const rows = await readWithIcebird(endpoint, `s3://${bucket}/datasets/evo`, 'v2.metadata.json');
    expect(rows.map((r) => [cell(r.c, 'DATE'), cell(r.a, 'DOUBLE')])).toEqual(
      (await sqlRows('SELECT CAST(c AS VARCHAR), a FROM evo ORDER BY c')).map((r) => [r[0], cell(r[1], 'DOUBLE')]),
    );
    // version 1 still reads with its own schema
    expect((await readWithIcebird(endpoint, `s3://${bucket}/datasets/evo`, 'v1.metadata.json')).map((r) => [String(r.a), r.b])).toEqual([['1', 'x']]);
  });

  it('a schema without an exact Iceberg type is committed without Iceberg metadata', async () => {
    const key = 'datasets/huge/x/h.parquet';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ice-huge-'));
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    await con.run(`COPY (SELECT 1::HUGEINT AS h) TO '${path.join(dir, 'h.parquet')}' (FORMAT parquet)`);
    con.closeSync();
    await putObject(key, fs.readFileSync(path.join(dir, 'h.parquet')));
    const r = await callHttp(registerFn, { method: 'POST', path: '/catalog/register', body: { name: 'huge', schema: [{ name: 'h', type: 'HUGEINT' }], objects: [{ key }] } });
    expect(r.status).toBe(200);
    expect((await listAll('datasets/huge/metadata/')).objects).toEqual([]);
    const results = await publishAll(['huge']);
    expect(results[0]!.skipped).toMatch(/column "h" has type HUGEINT/);
  });
});
