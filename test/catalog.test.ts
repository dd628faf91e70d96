import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { handler as registerFn } from '../functions/register.js';
import { handler as catalogFn } from '../functions/catalog.js';
import { callHttp } from './helpers/lambda.js';
import { freshBucket, useConditionalServer } from './helpers/s3.js';
import { putObject, listAll } from '../lib/storage/objects.js';
import { encodeManifest, decodeManifest, CorruptManifestError } from '../lib/catalog/codec.js';
import { datasetId, fingerprint, type StoredManifest } from '../lib/catalog/manifest.js';
import { commitObjects, parseRegisterRequest } from '../lib/catalog/register.js';
import { loadCatalog, readHead, versionKey } from '../lib/catalog/store.js';
import { conditionalWritesSupported } from '../lib/storage/conditional.js';

const SCHEMA = [
  { name: 'id', type: 'BIGINT' },
  { name: 'name', type: 'VARCHAR' },
];

async function putData(name: string, file: string, bytes = 'x'.repeat(10)): Promise<{ key: string; size: number }> {
  const key = `datasets/${name}/${fingerprint(SCHEMA).slice(0, 16)}/${file}.parquet`;
  await putObject(key, bytes);
  return { key, size: Buffer.byteLength(bytes) };
}

function reg(body: unknown) {
  return callHttp(registerFn, { method: 'POST', path: '/catalog/register', body });
}

function manifests(name?: string, version?: string) {
  return callHttp(catalogFn, {
    method: 'GET',
    path: name ? `/catalog/manifests/${name}` : '/catalog/manifests',
    ...(name ? { pathParameters: { name } } : {}),
    ...(version ? { query: { version } } : {}),
  });
}

describe('manifest identity', () => {
  it('fingerprint is SHA-256 over (name 0x1f type) joined by 0x1e', () => {
    const expected = crypto.createHash('sha256').update('id\x1fBIGINT\x1ename\x1fVARCHAR').digest('hex');
    expect(fingerprint(SCHEMA)).toBe(expected);
    expect(fingerprint([{ name: 'name', type: 'VARCHAR' }, { name: 'id', type: 'BIGINT' }])).not.toBe(expected);
  });
  it('dataset_id is UUIDv5(name) in the contract namespace', () => {
    expect(datasetId('workers')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(datasetId('workers')).toBe(datasetId('workers'));
    expect(datasetId('workers')).not.toBe(datasetId('workers2'));
  });
});

describe('manifest codec', () => {
  const m: StoredManifest = {
    dataset_id: datasetId('sales'),
    name: 'sales',
    schema_fingerprint: fingerprint(SCHEMA),
    schema: SCHEMA.map((c) => ({ ...c, nullable: true })),
    objects: [
      { key: 'datasets/sales/a/1.parquet', size: 123, row_count: 10 },
      { key: 'datasets/sales/a/2.parquet', size: 2 ** 40, row_count: null },
    ],
    row_count: null,
    version: 7,
    created_at: '2026-01-02T03:04:05.006Z',
    updated_at: '2026-02-03T04:05:06.007Z',
    commit_id: 'c-1',
    mode: 'append',
  };

  it('round-trips through Parquet exactly', async () => {
    const bytes = await encodeManifest(m);
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('PAR1');
    expect(await decodeManifest(bytes)).toEqual(m);
  });

  it('reads a manifest written by DuckDB (µs timestamps, TIMESTAMPTZ, lists of structs)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duck-manifest-'));
    const file = path.join(dir, 'm.parquet');
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    await con.run(`COPY (SELECT 'abc' AS dataset_id, 'sales' AS name, 'fp' AS schema_fingerprint,
        [{'name': 'id', 'type': 'BIGINT', 'nullable': true}] AS schema,
        [{'key': 'datasets/sales/x.parquet', 'size': 5::BIGINT, 'row_count': NULL::BIGINT}] AS objects,
        NULL::BIGINT AS row_count, 3::BIGINT AS version,
        TIMESTAMP '2026-01-02 03:04:05.123456' AS created_at, TIMESTAMPTZ '2026-01-03 00:00:00+00' AS updated_at)
      TO '${file}' (FORMAT parquet)`);
    const zstd = path.join(dir, 'm-zstd.parquet');
    await con.run(`COPY (FROM '${file}') TO '${zstd}' (FORMAT parquet, COMPRESSION zstd)`);
    con.closeSync();
    inst.closeSync();
    const d = await decodeManifest(fs.readFileSync(file));
    expect(d).toMatchObject({
      name: 'sales',
      version: 3,
      objects: [{ key: 'datasets/sales/x.parquet', size: 5, row_count: null }],
      schema: [{ name: 'id', type: 'BIGINT', nullable: true }],
      created_at: '2026-01-02T03:04:05.123Z',
      updated_at: '2026-01-03T00:00:00.000Z',
    });
    expect(await decodeManifest(fs.readFileSync(zstd))).toEqual(d);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects truncated, corrupt and foreign Parquet with a typed error', async () => {
    const bytes = Buffer.from(await encodeManifest(m));
    await expect(decodeManifest(bytes.subarray(0, bytes.length - 20))).rejects.toBeInstanceOf(CorruptManifestError);
    const flipped = Buffer.from(bytes);
    for (let i = 100; i < 400; i++) flipped[i] = flipped[i]! ^ 0xff;
    await expect(decodeManifest(flipped)).rejects.toBeInstanceOf(CorruptManifestError);
    await expect(decodeManifest(Buffer.from('hello world, not parquet'))).rejects.toBeInstanceOf(CorruptManifestError);
    // a valid Parquet file that is not a manifest
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duck-foreign-'));
    const file = path.join(dir, 'f.parquet');
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    await con.run(`COPY (SELECT range AS x FROM range(3)) TO '${file}' (FORMAT parquet)`);
    con.closeSync();
    inst.closeSync();
    await expect(decodeManifest(fs.readFileSync(file))).rejects.toThrow(/missing|expected 1 row/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('register and manifests (embedded S3, no conditional writes)', () => {
  beforeAll(async () => {
    await freshBucket('cat');
  });

  it('creates, re-registers (existing), appends, and refuses a different schema with a diff', async () => {
    const a = await putData('people', 'u1');
    const r1 = await reg({ name: 'People', schema: SCHEMA, schema_fingerprint: fingerprint(SCHEMA), objects: [{ ...a, row_count: 3 }], row_count: 3 });
    expect(r1.status).toBe(200);
    expect(r1.json.existing).toBe(false);
    expect(r1.json.manifest).toMatchObject({
      name: 'people',
      dataset_id: datasetId('people'),
      version: 1,
      row_count: 3,
      objects: [{ key: a.key, size: a.size, row_count: 3 }],
      schema: [
        { name: 'id', type: 'BIGINT', nullable: true },
        { name: 'name', type: 'VARCHAR', nullable: true },
      ],
    });

    const b = await putData('people', 'u2');
    const r2 = await reg({ name: 'people', schema: SCHEMA, objects: [{ key: b.key, size: b.size, row_count: 4 }] });
    expect(r2.status).toBe(200);
    expect(r2.json.existing).toBe(true);
    expect(r2.json.manifest.dataset_id).toBe(r1.json.manifest.dataset_id);
    expect(r2.json.manifest.version).toBe(2);
    expect(r2.json.manifest.objects.map((o: { key: string }) => o.key)).toEqual([b.key]);
    expect(r2.json.manifest.created_at).toBe(r1.json.manifest.created_at);
    expect(Date.parse(r2.json.manifest.updated_at)).toBeGreaterThan(Date.parse(r1.json.manifest.updated_at));

    const r3 = await reg({ name: 'people', schema: SCHEMA, objects: [{ ...a, row_count: 3 }], mode: 'append' });
    expect(r3.json.manifest.version).toBe(3);
    expect(r3.json.manifest.objects.map((o: { key: string }) => o.key)).toEqual([b.key, a.key]);
    expect(r3.json.manifest.row_count).toBe(7);

    const other = [
      { name: 'id', type: 'VARCHAR' },
      { name: 'email', type: 'VARCHAR' },
    ];
    const r4 = await reg({ name: 'people', schema: other, objects: [] });
    expect(r4.status).toBe(409);
    expect(r4.json.error).toMatchObject({
      code: 'schema_conflict',
      current_fingerprint: fingerprint(SCHEMA),
      new_fingerprint: fingerprint(other),
      diff: {
        added: [{ name: 'email', type: 'VARCHAR' }],
        removed: [{ name: 'name', type: 'VARCHAR' }],
        changed: [{ name: 'id', from: 'BIGINT', to: 'VARCHAR' }],
      },
    });
    const head = await manifests('people');
    expect(head.json.version).toBe(3);

    const v1 = await manifests('people', '1');
    expect(v1.status).toBe(200);
    expect(v1.json.version).toBe(1);
    expect(v1.json.objects.map((o: { key: string }) => o.key)).toEqual([a.key]);
    expect((await manifests('people', '9')).status).toBe(404);
    expect((await manifests('people', 'abc')).json.error.code).toBe('invalid_version');
    expect((await manifests('nobody')).status).toBe(404);
    expect((await manifests('nobody')).json.error.code).toBe('not_found');
  });

  it('validates objects: existence, location under datasets/<name>/, declared size', async () => {
    const missing = await reg({ name: 'v1', schema: SCHEMA, objects: [{ key: 'datasets/v1/nope.parquet', size: 1 }] });
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('object_not_found');
    const elsewhere = await putData('other', 'x');
    const wrong = await reg({ name: 'v1', schema: SCHEMA, objects: [{ key: elsewhere.key }] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.code).toBe('invalid_key');
    const traversal = await reg({ name: 'v1', schema: SCHEMA, objects: [{ key: 'datasets/v1/../other/x.parquet' }] });
    expect(traversal.json.error.code).toBe('invalid_key');
    const ok = await putData('v1', 'x');
    const size = await reg({ name: 'v1', schema: SCHEMA, objects: [{ key: ok.key, size: ok.size + 1 }] });
    expect(size.json.error.code).toBe('object_size_mismatch');
    const badType = await reg({ name: 'v1', schema: [{ name: 'a', type: 'BIGINT); DROP TABLE x; --' }], objects: [] });
    expect(badType.json.error.code).toBe('invalid_schema');
    const badFp = await reg({ name: 'v1', schema: SCHEMA, schema_fingerprint: 'abc', objects: [] });
    expect(badFp.json.error.code).toBe('fingerprint_mismatch');
    const badName = await reg({ name: '../etc', schema: SCHEMA, objects: [] });
    expect(badName.json.error.code).toBe('invalid_name');
    const badMode = await reg({ name: 'v1', schema: SCHEMA, objects: [], mode: 'merge' });
    expect(badMode.json.error.code).toBe('invalid_mode');
    // nothing was committed by any of these
    expect((await manifests('v1')).status).toBe(404);
  });

  it('a direct invocation (sls invoke local) takes the request itself as the payload', async () => {
    const a = await putData('direct', 'd1');
    const out = (await registerFn({ name: 'direct', schema: SCHEMA, objects: [a] } as never, {} as never)) as {
      manifest: { version: number };
      existing: boolean;
    };
    expect(out.existing).toBe(false);
    expect(out.manifest.version).toBe(1);
    // a failed direct invocation throws (Lambda sees a failed invocation), it does not return an error body
    await expect(registerFn({ name: '' } as never, {} as never)).rejects.toMatchObject({ code: 'invalid_name', status: 400 });
  });

  it('a commit that fails after the data write leaves the catalog unchanged', async () => {
    const a = await putData('crash', 'c1');
    const req = parseRegisterRequest({ name: 'crash', schema: SCHEMA, objects: [a] });
    await commitObjects(req);
    const before = await readHead('crash');
    const b = await putData('crash', 'c2');
    const req2 = parseRegisterRequest({ name: 'crash', schema: SCHEMA, objects: [b] });
    await expect(
      commitObjects(req2, {
        beforeWrite: async () => {
          throw new Error('simulated crash before the version write');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    expect(await readHead('crash')).toEqual(before);
    // and no lock was left behind
    expect((await listAll('_locks/catalog/crash/')).objects).toHaveLength(0);
  });

  it('one corrupt manifest is reported and skipped; the others still list', async () => {
    const a = await putData('good1', 'g');
    const b = await putData('good2', 'g');
    await reg({ name: 'good1', schema: SCHEMA, objects: [a] });
    await reg({ name: 'good2', schema: SCHEMA, objects: [b] });
    const c = await putData('poison', 'p');
    await reg({ name: 'poison', schema: SCHEMA, objects: [c] });
    // the head version gets corrupted behind the catalog's back
    await putObject(versionKey('poison', 1), Buffer.from('PAR1 this is not really parquet PAR1'));
    const list = await manifests();
    expect(list.status).toBe(200);
    const names = list.json.datasets.map((d: { name: string }) => d.name);
    expect(names).toEqual(expect.arrayContaining(['good1', 'good2']));
    expect(names).not.toContain('poison');
    expect(list.json.errors).toEqual([{ name: 'poison', code: 'corrupt_manifest', message: expect.any(String) }]);
    const one = await manifests('poison');
    expect(one.status).toBe(500);
    expect(one.json.error.code).toBe('corrupt_manifest');
  });

  it('reloading the catalog from the bucket (a cold process) returns identical manifests', async () => {
    const first = await loadCatalog();
    const again = await loadCatalog();
    expect(again).toEqual(first);
    expect(first.manifests.length).toBeGreaterThan(2);
  });
});

describe('orphan cleanup (gc)', () => {
  beforeAll(async () => {
    await freshBucket('gc');
  });

  it('lists (dry run) and then deletes only unreferenced data objects older than the grace period', async () => {
    const { handler: gc } = await import('../functions/gc.js');
    const kept = await putData('g', 'kept');
    await reg({ name: 'g', schema: SCHEMA, objects: [kept] });
    const replacedLater = await putData('g', 'old');
    await reg({ name: 'g', schema: SCHEMA, objects: [replacedLater] }); // v2: 'kept' only in history
    const orphan = await putData('g', 'orphan'); // written, never committed (a failed ingest)
    const dry = (await gc({ dryRun: true, graceMs: 0 })) as { orphans: Array<{ key: string }>; deleted: number };
    expect(dry.orphans.map((o) => o.key)).toEqual([orphan.key]);
    expect(dry.deleted).toBe(0);
    expect((await listAll(orphan.key)).objects).toHaveLength(1);
    const young = (await gc({ dryRun: false, graceMs: 3_600_000 })) as { orphans: unknown[] };
    expect(young.orphans).toHaveLength(0); // younger than the grace period: kept
    const real = (await gc({ dryRun: false, graceMs: 0 })) as { deleted: number; snapshot: string };
    expect(real.deleted).toBe(1);
    expect(real.snapshot).toMatch(/^_catalog\/snapshots\//);
    expect((await listAll(orphan.key)).objects).toHaveLength(0);
    expect((await listAll(kept.key)).objects).toHaveLength(1); // referenced by version 1
    expect((await listAll(replacedLater.key)).objects).toHaveLength(1);
  });

  it('never deletes under a dataset whose history it cannot read', async () => {
    const { handler: gc } = await import('../functions/gc.js');
    const a = await putData('h', 'a');
    await reg({ name: 'h', schema: SCHEMA, objects: [a] });
    await putObject(versionKey('h', 1), Buffer.from('PAR1 corrupt PAR1'));
    const stray = await putData('h', 'stray');
    const r = (await gc({ dryRun: false, graceMs: 0 })) as { skipped_datasets: Array<{ name: string }> };
    expect(r.skipped_datasets.map((d) => d.name)).toEqual(['h']);
    expect((await listAll(stray.key)).objects).toHaveLength(1);
    expect((await listAll(a.key)).objects).toHaveLength(1);
  });
});

function concurrencySuite(label: string) {
  it(`${label}: 16 concurrent appends all take effect, versions 1..16`, async () => {
    const objs = await Promise.all(Array.from({ length: 16 }, (_, i) => putData('appends', `a${i}`)));
    const results = await Promise.all(
      objs.map((o) => reg({ name: 'appends', schema: SCHEMA, objects: [{ ...o, row_count: 1 }], mode: 'append' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
    const versions = results.map((r) => r.json.manifest.version).sort((x: number, y: number) => x - y);
    expect(versions).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const head = await manifests('appends');
    expect(head.json.version).toBe(16);
    expect(head.json.objects).toHaveLength(16);
    expect(new Set(head.json.objects.map((o: { key: string }) => o.key))).toEqual(new Set(objs.map((o) => o.key)));
    expect(head.json.row_count).toBe(16);
    expect(results.filter((r) => r.json.existing === false)).toHaveLength(1);
  });

  it(`${label}: 8 concurrent registers with 8 fingerprints → exactly one winner, 7 schema_conflict`, async () => {
    const schemas = Array.from({ length: 8 }, (_, i) => [{ name: `c${i}`, type: 'BIGINT' }]);
    const objs = await Promise.all(
      schemas.map(async (s, i) => {
        const key = `datasets/race/${fingerprint(s).slice(0, 16)}/r${i}.parquet`;
        await putObject(key, 'x');
        return { key, size: 1 };
      }),
    );
    const results = await Promise.all(schemas.map((s, i) => reg({ name: 'race', schema: s, objects: [objs[i]] })));
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(7);
    for (const l of losers) {
      expect(l.json.error.code).toBe('schema_conflict');
      expect(l.json.error.current_fingerprint).toBe(winners[0]!.json.manifest.schema_fingerprint);
    }
    const head = await manifests('race');
    expect(head.json.version).toBe(1);
    expect(head.json.schema_fingerprint).toBe(winners[0]!.json.manifest.schema_fingerprint);
  });

  it(`${label}: a commit prepared while its object uploads writes the version only once the upload is done; a failed upload writes nothing`, async () => {
    const a = await putData('overlap', 'o1');
    await commitObjects(parseRegisterRequest({ name: 'overlap', schema: SCHEMA, objects: [a] }));
    const b = await putData('overlap', 'o2');
    let finish!: () => void;
    const uploading = new Promise<void>((r) => (finish = r));
    const pending = commitObjects(parseRegisterRequest({ name: 'overlap', schema: SCHEMA, objects: [b] }), { objectsWritten: uploading });
    await new Promise((r) => setTimeout(r, 150));
    expect((await readHead('overlap'))!.version).toBe(1);
    finish();
    expect((await pending).manifest.version).toBe(2);
    expect((await readHead('overlap'))!.objects.map((o) => o.key)).toEqual([b.key]);
    const c = await putData('overlap', 'o3');
    const failed = Promise.reject(new Error('simulated upload failure'));
    failed.catch(() => undefined); // (the job does the same: the commit awaits it only when it gets there)
    await expect(commitObjects(parseRegisterRequest({ name: 'overlap', schema: SCHEMA, objects: [c] }), { objectsWritten: failed })).rejects.toThrow(/simulated upload failure/);
    expect((await readHead('overlap'))!.version).toBe(2);
    expect((await listAll('_locks/catalog/overlap/')).objects).toHaveLength(0);
  });

  it(`${label}: concurrent replaces are serialised; the last version is one of them, whole`, async () => {
    const objs = await Promise.all(Array.from({ length: 6 }, (_, i) => putData('replaces', `r${i}`)));
    const results = await Promise.all(objs.map((o) => reg({ name: 'replaces', schema: SCHEMA, objects: [o] })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const head = await manifests('replaces');
    expect(head.json.version).toBe(6);
    const last = results.find((r) => r.json.manifest.version === 6)!;
    expect(head.json.objects).toEqual(last.json.manifest.objects);
    expect(head.json.objects).toHaveLength(1);
  });
}

describe('commit protocol on a store that ignores conditional writes (bakery lock)', () => {
  beforeAll(async () => {
    await freshBucket('lock');
    expect(await conditionalWritesSupported()).toBe(false);
  });
  concurrencySuite('lock path');
});

describe('commit protocol on a store that honours If-None-Match (optimistic)', () => {
  useConditionalServer('cas');
  concurrencySuite('CAS path');

  it('CAS path takes no lock objects', async () => {
    expect((await listAll('_locks/catalog/')).objects).toHaveLength(0);
  });
});
