/**
 * Issue 15: dataset lifecycle through the real handlers — drop, schema evolution, time travel.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { freshBucket } from './helpers/s3.js';
import { duckdb, upload } from './helpers/ingest.js';
import { callHttp, type HttpReply } from './helpers/lambda.js';
import { handler as sqlFn } from '../functions/sql.js';
import { handler as catalogFn } from '../functions/catalog.js';
import { handler as registerFn } from '../functions/register.js';
import { handler as compactFn } from '../functions/compact.js';
import { loadTableHttp } from './helpers/iceberg.js';
import { resetEngine } from '../lib/query/engine.js';
import { listAll, headObject, putObject } from '../lib/storage/objects.js';
import { readHeadVersion, versionKey } from '../lib/catalog/store.js';
import { commitObjects } from '../lib/catalog/register.js';
import { dropDataset } from '../lib/catalog/register.js';
import { fingerprint } from '../lib/catalog/manifest.js';

function sql(body: unknown): Promise<HttpReply> {
  return callHttp(sqlFn, { method: 'POST', path: '/sql', body });
}
function manifest(name: string, version?: number): Promise<HttpReply> {
  return callHttp(catalogFn, {
    method: 'GET',
    path: `/catalog/manifests/${name}`,
    pathParameters: { name },
    ...(version ? { query: { version: String(version) } } : {}),
  });
}
function listing(): Promise<HttpReply> {
  return callHttp(catalogFn, { method: 'GET', path: '/catalog/manifests' });
}
function drop(name: string): Promise<HttpReply> {
  return callHttp(catalogFn, { method: 'DELETE', path: `/catalog/manifests/${name}`, pathParameters: { name } });
}

beforeAll(async () => {
  await freshBucket('life');
  await resetEngine();
}, 60_000);

describe('drop', () => {
  it('gone at once from the listing, the manifest and /sql (a warm engine too); created again with a new dataset_id', async () => {
    const first = await upload('id,label\n1,a\n2,b\n', { name: 'Gone' });
    expect(first.status.state).toBe('ready');
    await upload('id,label\n3,c\n', { name: 'gone', mode: 'append' });
    const before = (await manifest('gone')).json;
    expect(before.version).toBe(2);
    // a warm engine that has the dataset materialised
    expect((await sql({ sql: 'SELECT count(*) FROM gone' })).json.rows).toEqual([[3]]);

    const d = await drop('GONE');
    expect(d.status).toBe(200);
    expect(d.json).toEqual({ name: 'gone', dropped_version: 2 });

    expect((await manifest('gone')).status).toBe(404);
    expect((await manifest('gone', 1)).status).toBe(404);
    expect((await listing()).json.datasets.map((m: { name: string }) => m.name)).not.toContain('gone');
    const q = await sql({ sql: 'SELECT count(*) FROM gone' });
    expect(q.status).toBe(400);
    expect(q.json.error.code).toBe('sql_error');
    // a cold engine (snapshot or not) does not see it either
    await resetEngine();
    expect((await sql({ sql: 'SELECT count(*) FROM gone' })).status).toBe(400);

    // dropping it again, or a name that never existed: not found, nothing written
    expect((await drop('gone')).status).toBe(404);
    expect((await drop('never_was')).status).toBe(404);
    expect((await listAll('_catalog/datasets/never_was/')).objects).toHaveLength(0);

    // the name again: a new dataset (new id, versions go on), with only the new rows
    const again = await upload('id,label,extra\n9,z,true\n', { name: 'gone' });
    expect(again.status.state).toBe('ready');
    const now = (await manifest('gone')).json;
    expect(now.dataset_id).not.toBe(before.dataset_id);
    expect(now.version).toBe(4);
    expect(now.row_count).toBe(1);
    expect((await sql({ sql: 'SELECT * FROM gone' })).json.rows).toEqual([[9, 'z', true]]);
    // the versions from before the drop belong to the old dataset
    expect((await manifest('gone', 2)).status).toBe(404);
  }, 120_000);

  it('drop vs append at the same time: either order leaves a consistent catalog (never the dropped rows back)', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `race_${round}`;
      const base = await upload('id\n1\n', { name });
      expect(base.status.state).toBe('ready');
      const schema = [{ name: 'id', type: 'BIGINT', nullable: true }];
      const fp = fingerprint(schema);
      const obj = (await manifest(name)).json.objects[0];
      const [dropped, appended] = await Promise.allSettled([
        dropDataset(name),
        commitObjects({ name, schema, schema_fingerprint: fp, objects: [{ key: obj.key, size: obj.size, row_count: 1 }], row_count: 1, mode: 'append' }),
      ]);
      expect(dropped.status).toBe('fulfilled');
      expect(appended.status).toBe('fulfilled');
      const head = await manifest(name);
      const appendedVersion = appended.status === 'fulfilled' ? appended.value.manifest.version : 0;
      if (appendedVersion > 2) {
        // the drop won: the append made a new dataset of just its own object
        expect(head.status).toBe(200);
        expect(head.json.version).toBe(3);
        expect(head.json.objects).toHaveLength(1);
        expect(appended.status === 'fulfilled' && appended.value.existing).toBe(false);
      } else {
        // the append won (a no-op: the object was already there) or committed first: the drop removed it all
        expect(head.status).toBe(404);
      }
    }
  }, 120_000);

  it('GC deletes what only a dropped dataset referenced, a grace period after the drop', async () => {
    const r = await upload('id\n1\n2\n', { name: 'short_lived' });
    expect(r.status.state).toBe('ready');
    const key = (await manifest('short_lived')).json.objects[0].key as string;
    expect(await headObject(key)).toBeTruthy();
    expect((await drop('short_lived')).status).toBe(200);
    const { handler: gc } = await import('../functions/gc.js');
    // within the grace period the objects stay (a query that began before the drop may still read them)
    const young = (await gc({ dryRun: false, graceMs: 3_600_000 })) as { orphans: Array<{ key: string }> };
    expect(young.orphans.map((o) => o.key)).not.toContain(key);
    expect(await headObject(key)).toBeTruthy();
    const old = (await gc({ dryRun: false, graceMs: 0 })) as { orphans: Array<{ key: string }> };
    expect(old.orphans.map((o) => o.key)).toContain(key);
    expect(await headObject(key)).toBeUndefined();
    // objects of live datasets are untouched
    const live = (await manifest('gone')).json.objects[0].key;
    expect(await headObject(live)).toBeTruthy();
  }, 120_000);

  it('register into a dropped name creates it again; DELETE needs the token like the rest', async () => {
    const prev = process.env.LAKEHOUSE_API_TOKEN;
    process.env.LAKEHOUSE_API_TOKEN = 'secret-token';
    try {
      const r = await callHttp(catalogFn, { method: 'DELETE', path: '/catalog/manifests/gone', pathParameters: { name: 'gone' } });
      expect(r.status).toBe(401);
      expect((await manifest('gone')).status).toBe(401);
    } finally {
      if (prev === undefined) delete process.env.LAKEHOUSE_API_TOKEN;
      else process.env.LAKEHOUSE_API_TOKEN = prev;
    }
    const m = (await manifest('gone')).json;
    expect((await drop('gone')).status).toBe(200);
    const reg = await callHttp(registerFn, {
      method: 'POST',
      path: '/catalog/register',
      body: { name: 'gone', schema: m.schema, objects: m.objects.map((o: { key: string }) => ({ key: o.key })), row_count: 1 },
    });
    expect(reg.status).toBe(200);
    expect(reg.json.existing).toBe(false);
    expect(reg.json.manifest.dataset_id).not.toBe(m.dataset_id);
    expect((await sql({ sql: 'SELECT id FROM gone' })).json.rows).toEqual([[9]]);
  }, 120_000);
});

describe('schema evolution', () => {
  it('append with evolve: a new column (NULL in older rows), a column missing from the new rows, BIGINT widened to DOUBLE', async () => {
    expect((await upload('id,amount,region\n1,10,north\n2,20,south\n', { name: 'sheet' })).status.state).toBe('ready');
    // the second export: one more column, "region" gone, amount now with decimals
    const refused = await upload('id,amount,channel\n3,30.5,web\n', { name: 'sheet', mode: 'append' });
    expect(refused.status.error.code).toBe('schema_conflict');
    const evolved = await upload('id,amount,channel\n3,30.5,web\n', { name: 'sheet', mode: 'append', schema_change: 'evolve' });
    expect(evolved.status.state).toBe('ready');
    const changes = [
      { change: 'widened', name: 'amount', from: 'BIGINT', to: 'DOUBLE' },
      { change: 'missing', name: 'region' },
      { change: 'added', name: 'channel', to: 'VARCHAR' },
    ];
    expect(evolved.status.report.schema_changes).toEqual(changes);
    const m = (await manifest('sheet')).json;
    expect(m.version).toBe(2);
    expect(m.schema.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual(['id:BIGINT', 'amount:DOUBLE', 'region:VARCHAR', 'channel:VARCHAR']);
    expect(m.schema_changes).toEqual(changes);
    // each object keeps the schema it was written with
    expect(m.objects[0].schema_fingerprint).toBe((await manifest('sheet', 1)).json.schema_fingerprint);
    expect(m.objects[1].schema_fingerprint).toBeDefined();
    expect(m.objects[1].schema_fingerprint).not.toBe(m.objects[0].schema_fingerprint);

    const q = await sql({ sql: 'SELECT * FROM sheet ORDER BY id' });
    expect(q.json.columns.map((c: { type: string }) => c.type)).toEqual(['BIGINT', 'DOUBLE', 'VARCHAR', 'VARCHAR']);
    expect(q.json.rows).toEqual([
      [1, 10, 'north', null],
      [2, 20, 'south', null],
      [3, 30.5, null, 'web'],
    ]);
    // version 1 is still the old schema
    expect((await manifest('sheet', 1)).json.schema).toHaveLength(3);
  }, 120_000);

  it('a column held as text stays text, byte for byte, when the new rows look numeric', async () => {
    expect((await upload('code,n\nA-1,1\n', { name: 'codes' })).status.state).toBe('ready');
    const r = await upload('code,n\n007,2\n+5,3\n', { name: 'codes', mode: 'append', schema_change: 'evolve' });
    expect(r.status.state).toBe('ready');
    expect((await manifest('codes')).json.schema.map((c: { type: string }) => c.type)).toEqual(['VARCHAR', 'BIGINT']);
    expect((await sql({ sql: 'SELECT code FROM codes ORDER BY n' })).json.rows).toEqual([['A-1'], ['007'], ['+5']]);
    // and a typed column widened to text by new rows keeps its old values readable
    const t = await upload('code,n\nB-2,many\n', { name: 'codes', mode: 'append', schema_change: 'evolve' });
    expect(t.status.report.schema_changes).toEqual([{ change: 'widened', name: 'n', from: 'BIGINT', to: 'VARCHAR' }]);
    expect((await sql({ sql: 'SELECT n FROM codes ORDER BY code' })).json.rows).toEqual([['3'], ['2'], ['1'], ['many']]);
  }, 120_000);

  it('BIGINT → DOUBLE is refused when an integer beyond 2^53 would change; nothing is committed', async () => {
    expect((await upload('id,big\n1,9007199254740993\n', { name: 'huge' })).status.state).toBe('ready');
    const r = await upload('id,big\n2,1.5\n', { name: 'huge', mode: 'append', schema_change: 'evolve' });
    expect(r.status.state).toBe('failed');
    expect(r.status.error.code).toBe('schema_conflict');
    expect(r.status.error.message).toMatch(/"big" cannot widen from BIGINT to DOUBLE.*beyond/);
    expect((await manifest('huge')).json.version).toBe(1);
    expect((await sql({ sql: 'SELECT big::VARCHAR FROM huge' })).json.rows).toEqual([['9007199254740993']]);
  }, 120_000);

  it('evolve needs append; two writers evolving at once both land (no lost column)', async () => {
    const bad = await callHttp((await import('../functions/presign-upload.js')).handler, {
      method: 'POST',
      path: '/uploads',
      body: { name: 'x', mode: 'replace', schema_change: 'evolve' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_schema_change');

    expect((await upload('id\n1\n', { name: 'pair' })).status.state).toBe('ready');
    const [a, b] = await Promise.all([
      upload('id,left_col\n2,l\n', { name: 'pair', mode: 'append', schema_change: 'evolve' }),
      upload('id,right_col\n3,r\n', { name: 'pair', mode: 'append', schema_change: 'evolve' }),
    ]);
    expect(a.status.state).toBe('ready');
    expect(b.status.state).toBe('ready');
    const m = (await manifest('pair')).json;
    expect(m.version).toBe(3);
    expect(m.schema.map((c: { name: string }) => c.name).sort()).toEqual(['id', 'left_col', 'right_col']);
    expect((await sql({ sql: 'SELECT id, left_col, right_col FROM pair ORDER BY id' })).json.rows).toEqual([
      [1, null, null],
      [2, 'l', null],
      [3, null, 'r'],
    ]);
  }, 120_000);
});

describe('time travel', () => {
  it('"name@N" reads version N, read-only, beside the current version; gone with a drop', async () => {
    expect((await upload('id,v\n1,a\n', { name: 'tt' })).status.state).toBe('ready');
    expect((await upload('id,v\n2,b\n', { name: 'tt', mode: 'append' })).status.state).toBe('ready');
    expect((await upload('id,v\n9,z\n', { name: 'tt' })).status.state).toBe('ready'); // replace: v3
    const q = await sql({ sql: 'SELECT (SELECT count(*) FROM "tt@1"), (SELECT count(*) FROM "TT@2"), (SELECT count(*) FROM tt), (SELECT max(id) FROM "tt@2")' });
    expect(q.status).toBe(200);
    expect(q.json.rows).toEqual([[1, 2, 1, 2]]);
    // a version that does not exist, or a malformed one, is an unknown table
    for (const bad of ['"tt@4"', '"tt@0"', '"nope@1"']) {
      const r = await sql({ sql: `SELECT * FROM ${bad}` });
      expect({ bad, status: r.status, code: r.json.error.code }).toEqual({ bad, status: 400, code: 'sql_error' });
    }
    // still the sandbox: no writing through it
    const w = await sql({ sql: 'INSERT INTO "tt@1" VALUES (5, \'x\')' });
    expect(w.status).toBe(403);
    // a cold engine finds versions too; after a drop they are gone (same freshness rules)
    await resetEngine();
    expect((await sql({ sql: 'SELECT v FROM "tt@2" ORDER BY id' })).json.rows).toEqual([['a'], ['b']]);
    expect((await drop('tt')).status).toBe(200);
    expect((await sql({ sql: 'SELECT * FROM "tt@2"' })).status).toBe(400);
  }, 120_000);
});

describe('compaction', () => {
  const compact = (body: unknown) => callHttp(compactFn, { method: 'POST', path: '/catalog/compact', body });
  const rowsOf = async (name: string) => (await sql({ sql: `SELECT * FROM "${name}"`, limit: 100_000 })).json.rows as unknown[][];

  it('many appended objects → one, rows and order unchanged, one new version; earlier versions still readable', async () => {
    for (let i = 0; i < 24; i++) {
      const r = await upload(`id,label,amount\n${i * 2},a${i},${i}.5\n${i * 2 + 1},b${i},\n`, { name: 'hourly', mode: i ? 'append' : 'replace' });
      expect(r.status.state).toBe('ready');
    }
    const before = (await manifest('hourly')).json;
    expect(before.objects).toHaveLength(24);
    const rows = await rowsOf('hourly');
    const c = await compact({ name: 'hourly' });
    expect(c.status).toBe(200);
    expect(c.json).toMatchObject({ name: 'hourly', version: 25, objects_before: 24, objects_after: 1, compacted: 24 });
    const after = (await manifest('hourly')).json;
    expect(after.version).toBe(25);
    expect(after.row_count).toBe(48);
    expect(after.schema).toEqual(before.schema);
    expect(after.objects[0].key).toMatch(/^datasets\/hourly\/[0-9a-f]{16}\/c-/);
    expect(await rowsOf('hourly')).toEqual(rows); // same rows, same order
    expect((await sql({ sql: 'SELECT count(*) FROM "hourly@24"' })).json.rows).toEqual([[48]]);
    // nothing more to do: no new version
    const again = await compact({ name: 'hourly' });
    expect(again.json).toMatchObject({ version: 25, compacted: 0, objects_after: 1 });
    expect((await manifest('hourly')).json.version).toBe(25);
    // a small target keeps several objects
    expect((await compact({ name: 'nope_not_here' })).status).toBe(404);
    expect((await compact({ name: 'hourly', target_bytes: 1 })).status).toBe(400);
  }, 240_000);

  it('an evolved dataset compacts into objects of the dataset schema (no per-object schema left)', async () => {
    expect((await upload('id,amount\n1,10\n', { name: 'evo_c' })).status.state).toBe('ready');
    expect((await upload('id,amount,note\n2,2.5,x\n', { name: 'evo_c', mode: 'append', schema_change: 'evolve' })).status.state).toBe('ready');
    const rows = await rowsOf('evo_c');
    expect(rows).toEqual([
      [1, 10, null],
      [2, 2.5, 'x'],
    ]);
    expect((await compact({ name: 'evo_c' })).json.compacted).toBe(2);
    const m = (await manifest('evo_c')).json;
    expect(m.objects).toHaveLength(1);
    expect(m.objects[0].schema_fingerprint).toBeUndefined();
    expect(await rowsOf('evo_c')).toEqual(rows);
  }, 120_000);

  it('compaction vs append at once: every row exactly once; compaction vs replace: the replace wins or the compaction is refused', async () => {
    for (let round = 0; round < 2; round++) {
      const name = `busy_${round}`;
      for (let i = 0; i < 4; i++) await upload(`id\n${i}\n`, { name, mode: i ? 'append' : 'replace' });
      const [c, a] = await Promise.all([compact({ name }), upload('id\n100\n', { name, mode: 'append' })]);
      expect(c.status).toBe(200);
      expect(a.status.state).toBe('ready');
      const ids = (await rowsOf(name)).map((r) => r[0]).sort((x, y) => Number(x) - Number(y));
      expect(ids).toEqual([0, 1, 2, 3, 100]);

      for (let i = 0; i < 3; i++) await upload(`id\n${i + 10}\n`, { name, mode: 'append' });
      const [c2, r2] = await Promise.all([compact({ name }), upload('id\n7\n', { name, mode: 'replace' })]);
      expect(r2.status.state).toBe('ready');
      if (c2.status === 409) expect(c2.json.error.code).toBe('compaction_conflict');
      else expect(c2.status).toBe(200);
      expect((await rowsOf(name)).map((r) => r[0])).toEqual([7]);
    }
  }, 240_000);

  it('GC keeps what earlier versions reference; the scheduled run compacts every dataset worth it', async () => {
    const { handler: gc } = await import('../functions/gc.js');
    await gc({ dryRun: false, graceMs: 0 });
    expect((await sql({ sql: 'SELECT count(*) FROM "hourly@3"' })).json.rows).toEqual([[6]]);
    for (let i = 0; i < 3; i++) await upload(`id\n${i}\n`, { name: 'sched', mode: i ? 'append' : 'replace' });
    const report = (await compactFn({ minObjects: 3 }, {} as never)) as { compacted: Array<{ name: string; objects_after: number }>; errors: unknown[] };
    expect(report.errors).toEqual([]);
    expect(report.compacted.find((r) => r.name === 'sched')).toMatchObject({ objects_after: 1 });
    expect((await manifest('sched')).json.objects).toHaveLength(1);
  }, 120_000);
});

describe('pruning', () => {
  const scanOf = (r: HttpReply) => ({ scanned: r.json.objects_scanned, total: r.json.objects_total });

  it('a selective query downloads only the objects whose statistics can match; the answer is the same', async () => {
    // ten objects of ten days each, every column orderable
    for (let i = 0; i < 10; i++) {
      const lines = ['id,day,ts,amount,region'];
      for (let j = 0; j < 10; j++) {
        const n = i * 10 + j;
        lines.push(`${n},2024-01-${String((n % 28) + 1).padStart(2, '0')},2024-03-01 00:00:${String(i).padStart(2, '0')}.5,${n}.25,${i % 2 ? 'north' : 'south'}`);
      }
      if (i === 3) lines.push('35,,,,'); // NULLs in one object only
      const r = await upload(lines.join('\n') + '\n', { name: 'events', mode: i ? 'append' : 'replace' });
      expect(r.status.state).toBe('ready');
    }
    const m = (await manifest('events')).json;
    expect(m.objects).toHaveLength(10);
    expect(m.objects[0].stats.find((s: { name: string }) => s.name === 'id')).toEqual({ name: 'id', min: '0', max: '9', nulls: 0 });

    await resetEngine(); // nothing cached: bytes_fetched counts every object read
    const cases: Array<[string, number]> = [
      ['SELECT count(*) FROM events WHERE id = 42', 1],
      ['SELECT count(*) FROM events e WHERE e.id BETWEEN 15 AND 34 AND region = \'north\'', 2],
      ['SELECT count(*) FROM events WHERE id IN (5, 95)', 2],
      ['SELECT count(*) FROM events WHERE 20 > id', 2],
      ['SELECT count(*) FROM events WHERE amount >= 99.25', 1],
      ['SELECT count(*) FROM events WHERE ts < \'2024-03-01 00:00:01\'', 1],
      ['SELECT count(*) FROM events WHERE ts >= TIMESTAMP \'2024-03-01 00:00:09.5\'', 1],
      ['SELECT count(*) FROM events WHERE day IS NULL', 1],
      ['SELECT count(*) FROM events WHERE day = \'2024-01-05\'', 6], // the days wrap around every 28 ids
      ['SELECT count(*) FROM events WHERE id > 5000', 0],
      ['SELECT count(*) FROM events WHERE region = \'zzz\'', 0],
      // what it cannot reason about reads everything
      ['SELECT count(*) FROM events WHERE id + 1 = 43', 10],
      ['SELECT count(*) FROM events WHERE id = 42 OR id = 3', 10],
      ['SELECT count(*) FROM (SELECT * FROM events) WHERE id = 42', 10],
      // the dataset read again in a subquery: that read must see every object
      ['SELECT count(*) FROM events WHERE id = 42 AND EXISTS (SELECT 1 FROM events WHERE id = 95)', 10],
    ];
    const plain = async (q: string) => {
      // the same question without a prunable shape: the truth to compare with
      const wrapped = q.replace('FROM events e WHERE', 'FROM (SELECT * FROM events) e WHERE').replace('FROM events WHERE', 'FROM (SELECT * FROM events) WHERE');
      return (await sql({ sql: wrapped })).json.rows;
    };
    let fetched = 0;
    for (const [q, scanned] of cases) {
      const r = await sql({ sql: q });
      expect({ q, status: r.status }).toEqual({ q, status: 200 });
      expect({ q, ...scanOf(r) }).toEqual({ q, scanned, total: 10 });
      expect({ q, rows: r.json.rows }).toEqual({ q, rows: await plain(q) });
      fetched += r.json.bytes_fetched;
    }
    expect(fetched).toBeGreaterThan(0);
    // headers and Server-Timing for the other formats
    const csv = await sql({ sql: 'SELECT id FROM events WHERE id = 42', format: 'csv' });
    expect(csv.headers['x-lakehouse-objects-scanned']).toBe('1');
    expect(csv.headers['x-lakehouse-objects-total']).toBe('10');
    expect(csv.headers['server-timing']).toMatch(/fetch;dur=\d+;desc="1\/10 objects, \d+ bytes fetched"/);
    // the pruned view belongs to that request only: the next query on the pooled connection sees every object
    expect((await sql({ sql: 'SELECT count(*) FROM events' })).json.rows).toEqual([[101]]);
    expect((await sql({ sql: 'SELECT count(*) FROM events WHERE id = 42' })).json.rows).toEqual([[1]]);
    expect((await sql({ sql: 'SELECT count(*) FROM events' })).json).toMatchObject({ rows: [[101]], objects_scanned: 10 });
    // time travel prunes too
    expect(scanOf(await sql({ sql: 'SELECT * FROM "events@5" WHERE id = 42' }))).toEqual({ scanned: 1, total: 5 });
  }, 240_000);

  it('an integer literal beyond 2^53 is not rounded into a wrong pruning', async () => {
    expect((await upload('id\n1\n', { name: 'bigids' })).status.state).toBe('ready');
    expect((await upload('id\n9007199254740993\n', { name: 'bigids', mode: 'append' })).status.state).toBe('ready');
    const r = await sql({ sql: 'SELECT id::VARCHAR FROM bigids WHERE id = 9007199254740993' });
    expect(r.json.rows).toEqual([['9007199254740993']]);
    expect(r.json.objects_scanned).toBe(2);
  }, 120_000);

  it('an evolved dataset reads each object by its own schema: a pruned subset or a compaction changes no value', async () => {
    expect((await upload('k,c\n1,7\n', { name: 'evo_p' })).status.state).toBe('ready'); // c BIGINT
    expect((await upload('k,c\n2,7.5\n', { name: 'evo_p', mode: 'append', schema_change: 'evolve' })).status.state).toBe('ready'); // → DOUBLE
    expect((await upload('k,c,z\n3,x,new\n', { name: 'evo_p', mode: 'append', schema_change: 'evolve' })).status.state).toBe('ready'); // → VARCHAR, + z
    const all = (await sql({ sql: 'SELECT k, c, z FROM evo_p ORDER BY k' })).json.rows;
    expect(all).toEqual([
      [1, '7', null],
      [2, '7.5', null],
      [3, 'x', 'new'],
    ]);
    // the last object has the dataset's schema and statistics: k = 1 prunes it, and the others
    // (read alone) must still render 7 as '7' and have a NULL z
    const one = await sql({ sql: 'SELECT k, c, z FROM evo_p WHERE k = 1' });
    expect(one.json.objects_scanned).toBe(2);
    expect(one.json.rows).toEqual([[1, '7', null]]);
    const c = await callHttp(compactFn, { method: 'POST', path: '/catalog/compact', body: { name: 'evo_p', target_bytes: 1024 * 1024 } });
    expect(c.json.compacted).toBe(3);
    expect((await sql({ sql: 'SELECT k, c, z FROM evo_p ORDER BY k' })).json.rows).toEqual(all);
  }, 120_000);

  it('objects of an evolved dataset written with another schema are never pruned by their own statistics', async () => {
    expect((await upload('k,v\n1,5\n2,6\n', { name: 'wid' })).status.state).toBe('ready');
    expect((await upload('k,v\n3,x10\n', { name: 'wid', mode: 'append', schema_change: 'evolve' })).status.state).toBe('ready');
    // v is now VARCHAR: '5' < '6' < 'x10' as text; the first object's BIGINT statistics say nothing about text order
    const r = await sql({ sql: "SELECT k FROM wid WHERE v >= '10' ORDER BY k" });
    expect(r.json.rows).toEqual([[1], [2], [3]]);
  }, 120_000);
});

describe('manifests grow with the change', () => {
  it('past 64 objects entries live in segments: an append writes only its own entries; loads, GC and time travel see every object', async () => {
    const schema = [{ name: 'id', type: 'BIGINT', nullable: true }];
    const fp = fingerprint(schema);
    const con = await duckdb();
    const file = path.join(process.env.LAKEHOUSE_TMP_DIR!, 'seg.parquet');
    await con.run(`COPY (SELECT range::BIGINT AS id FROM range(3)) TO '${file}' (FORMAT parquet)`);
    con.closeSync();
    const body = fs.readFileSync(file);
    const put = async (i: number) => {
      const key = `datasets/segs/${fp.slice(0, 16)}/p${i}.parquet`;
      await putObject(key, body);
      return { key, size: body.length, row_count: 3 };
    };
    const first = await Promise.all(Array.from({ length: 100 }, (_, i) => put(i)));
    const c = (objects: Array<{ key: string; size: number; row_count: number }>, mode: 'replace' | 'append') =>
      commitObjects({ name: 'segs', schema, schema_fingerprint: fp, objects, row_count: null, mode });
    await c(first, 'replace');
    const segKeys = async () => (await listAll('_catalog/datasets/segs/segments/')).objects.map((o) => o.Key!);
    expect(await segKeys()).toHaveLength(1);
    const v1 = (await readHeadVersion('segs'))!;
    expect(v1.segments).toEqual([{ key: (await segKeys())[0], objects: 100 }]);

    // an append: one more segment holding one entry; the version lists both
    await c([await put(100)], 'append');
    const v2 = (await readHeadVersion('segs'))!;
    expect(v2.segments!.map((g) => g.objects)).toEqual([100, 1]);
    expect(v2.segments![0]).toEqual(v1.segments![0]);
    expect(v2.objects.map((o) => o.key)).toEqual([...first.map((o) => o.key), `datasets/segs/${fp.slice(0, 16)}/p100.parquet`]);
    // the version file grows by a segment reference, not by the dataset's entries
    const size = async (v: number) => (await headObject(versionKey('segs', v)))!.size;
    expect(Math.abs((await size(2)) - (await size(1)))).toBeLessThan(512);

    // many appends: the list of segments is folded back into one before it grows past 32
    for (let i = 101; i < 140; i++) await c([await put(i)], 'append');
    const v41 = (await readHeadVersion('segs'))!;
    expect(v41.version).toBe(41);
    expect(v41.segments!.length).toBeLessThanOrEqual(32);
    expect(v41.objects).toHaveLength(140);
    expect((await manifest('segs')).json.objects).toHaveLength(140);
    expect((await sql({ sql: 'SELECT count(*) FROM segs' })).json.rows).toEqual([[420]]);
    expect((await sql({ sql: 'SELECT count(*) FROM "segs@2"' })).json.rows).toEqual([[303]]);
    // a cold engine (snapshot with objects inline) and GC see every object
    await resetEngine();
    expect((await sql({ sql: 'SELECT count(*) FROM segs' })).json.rows).toEqual([[420]]);
    const { handler: gc } = await import('../functions/gc.js');
    const report = (await gc({ dryRun: true, graceMs: 0 })) as { orphans: Array<{ key: string }>; skipped_datasets: unknown[] };
    expect(report.orphans.filter((o) => o.key.startsWith('datasets/segs/'))).toEqual([]);
    // a replace writes its entries afresh
    await c(first.slice(0, 70), 'replace');
    expect((await readHeadVersion('segs'))!.segments!.map((g) => g.objects)).toEqual([70]);
  }, 240_000);
});

describe('lifecycle and the Iceberg tables', () => {
  const load = loadTableHttp;
  const metadataFiles = async (name: string) =>
    (await listAll(`datasets/${name}/metadata/`)).objects.map((o) => o.Key!).filter((k) => k.endsWith('.metadata.json'));

  it('a dropped dataset leaves the REST catalog; created again it is a new table', async () => {
    expect((await upload('id\n1\n', { name: 'ice_drop' })).status.state).toBe('ready');
    const before = await load('ice_drop');
    expect(before.status).toBe(200);
    expect((await drop('ice_drop')).status).toBe(200);
    const after = await load('ice_drop');
    expect(after.status).toBe(404);
    expect(after.json.error.type).toBe('NoSuchTableException');
    expect(await metadataFiles('ice_drop')).toHaveLength(1); // the tombstone publishes nothing
    expect((await upload('id\n2\n', { name: 'ice_drop' })).status.state).toBe('ready');
    const again = await load('ice_drop');
    expect(again.status).toBe(200);
    expect(again.json.metadata['table-uuid']).not.toBe(before.json.metadata['table-uuid']);
    expect(again.json.metadata['current-snapshot-id']).toBeDefined();
  }, 120_000);

  it('never serves the metadata of a dropped dataset for the one created again under its name', async () => {
    expect((await upload('id\n1\n', { name: 'ice_again' })).status.state).toBe('ready');
    expect((await load('ice_again')).status).toBe(200);
    expect((await drop('ice_again')).status).toBe(200);
    process.env.LAKEHOUSE_ICEBERG = 'off'; // the new dataset's first publish has not happened (failed, or in flight)
    try {
      expect((await upload('id\n2\n', { name: 'ice_again' })).status.state).toBe('ready');
    } finally {
      delete process.env.LAKEHOUSE_ICEBERG;
    }
    const r = await load('ice_again');
    expect(r.status).toBe(404);
    expect(r.json.error.message).toMatch(/not published yet/);
  }, 120_000);

  it('compaction publishes an overwrite with the new objects; an evolved dataset is published up to its evolution, and says why not after', async () => {
    for (let i = 0; i < 3; i++) await upload(`id\n${i}\n`, { name: 'ice_c', mode: i ? 'append' : 'replace' });
    expect((await callHttp(compactFn, { method: 'POST', path: '/catalog/compact', body: { name: 'ice_c' } })).status).toBe(200);
    const c = await load('ice_c');
    expect(c.status).toBe(200);
    const snap = c.json.metadata.snapshots.find((s: { 'snapshot-id': number }) => s['snapshot-id'] === c.json.metadata['current-snapshot-id']);
    expect(snap.summary).toMatchObject({ operation: 'overwrite', 'total-records': '3', 'total-data-files': '1' });

    expect((await upload('id,v\n1,5\n', { name: 'ice_e' })).status.state).toBe('ready');
    expect((await upload('id,v\n2,x\n', { name: 'ice_e', mode: 'append', schema_change: 'evolve' })).status.state).toBe('ready');
    expect((await metadataFiles('ice_e')).map((k) => k.split('/').pop())).toEqual(['v1.metadata.json']);
    // and the REST catalog does not serve version 1 as if it were current
    const e = await load('ice_e');
    expect(e.status).toBe(404);
    expect(e.json.error.message).toMatch(/schema evolution/);
  }, 120_000);
});
