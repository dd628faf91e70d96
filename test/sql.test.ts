import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { tableFromIPC } from 'apache-arrow';
import { freshBucket } from './helpers/s3.js';
import { upload, duckdb } from './helpers/ingest.js';
import { callHttp, type HttpReply } from './helpers/lambda.js';
import { handler as sqlFn } from '../functions/sql.js';
import { generateWorkers } from '../scripts/gen-workers.js';
import { getEngine, resetEngine } from '../lib/query/engine.js';
import { readHead } from '../lib/catalog/store.js';
import { config } from '../lib/config.js';
import { scopedEnv } from './helpers/env.js';

const setEnv = scopedEnv();

function sql(body: unknown, headers?: Record<string, string>): Promise<HttpReply> {
  return callHttp(sqlFn, { method: 'POST', path: '/sql', body, headers });
}

async function rows(q: string, params?: unknown) {
  const r = await sql({ sql: q, ...(params !== undefined ? { params } : {}) });
  if (r.status !== 200) throw new Error(`${r.status} ${r.text}`);
  return r.json.rows as unknown[][];
}

let workersCsv: string;
const WORKERS = 20_000;

beforeAll(async () => {
  await freshBucket('sql');
  await resetEngine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workers-'));
  workersCsv = path.join(dir, 'workers.csv');
  await generateWorkers(WORKERS, workersCsv);
  const r = await upload(fs.readFileSync(workersCsv), { name: 'workers' });
  expect(r.status.state).toBe('ready');
  await upload('id,label\n1,one\n2,two\n', { name: 'small' });
}, 120_000);

describe('seed acceptance', () => {
  it('count(*) equals the rows ingested', async () => {
    expect(await rows('SELECT count(*) AS n FROM workers')).toEqual([[WORKERS]]);
  });

  it('the IL group-by equals DuckDB reading the source CSV directly', async () => {
    const seed = `SELECT role, count(*) AS n FROM workers WHERE state = 'IL' GROUP BY role ORDER BY role`;
    const ours = await rows(seed);
    const con = await duckdb();
    // docs/api.md: an empty cell in a VARCHAR column is '' (DuckDB's default reader makes it NULL)
    const direct = (
      await con.runAndReadAll(
        `SELECT coalesce(role, '') AS role, count(*) AS n FROM read_csv('${workersCsv}') WHERE state = 'IL' GROUP BY 1 ORDER BY 1`,
      )
    ).getRowsJson();
    con.closeSync();
    expect(ours.length).toBeGreaterThan(5);
    expect(ours).toEqual(direct.map(([role, n]) => [role, Number(n)]));
  });

  it('unknown table → 400 sql_error', async () => {
    const r = await sql({ sql: 'SELECT * FROM no_such_dataset' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('sql_error');
    const parse = await sql({ sql: 'SELEC 1' });
    expect(parse.status).toBe(400);
    expect(parse.json.error.code).toBe('sql_error');
    expect(parse.json.error.message).toMatch(/syntax error/i);
  });
});

describe('results', () => {
  it('JSON encoding of every type', async () => {
    const r = await sql({
      sql: `SELECT 9007199254740991::BIGINT AS safe, 9007199254740992::BIGINT AS unsafe, -9007199254740993::BIGINT AS neg,
              170141183460469231731687303715884105727::HUGEINT AS huge, 42::INTEGER AS i,
              12.50::DECIMAL(10,2) AS dec, 2.5::DOUBLE AS dbl, 'nan'::DOUBLE AS nan,
              DATE '2024-02-29' AS d, TIMESTAMP '2024-02-29 13:14:15.123456' AS ts, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tstz,
              NULL::VARCHAR AS nul, true AS b, 'x"y' AS s,
              [1, NULL, 9007199254740993]::BIGINT[] AS l, {'a': 1.25::DECIMAL(4,2), 'b': [DATE '2024-01-01'], 'c': NULL::INT} AS st,
              NULL::INT[] AS nl`,
    });
    expect(r.status).toBe(200);
    const types = Object.fromEntries(r.json.columns.map((c: { name: string; type: string }) => [c.name, c.type]));
    expect(types).toMatchObject({ safe: 'BIGINT', huge: 'HUGEINT', dec: 'DECIMAL(10,2)', d: 'DATE', ts: 'TIMESTAMP', l: 'BIGINT[]' });
    expect(r.json.rows).toEqual([
      [
        9007199254740991,
        '9007199254740992',
        '-9007199254740993',
        '170141183460469231731687303715884105727',
        42,
        '12.50',
        2.5,
        'nan',
        '2024-02-29',
        '2024-02-29T13:14:15.123456',
        '2024-01-01T00:00:00+00',
        null,
        true,
        'x"y',
        [1, null, '9007199254740993'],
        { a: '1.25', b: ['2024-01-01'], c: null },
        null,
      ],
    ]);
    expect(r.json).toMatchObject({ row_count: 1, truncated: false, query_id: expect.any(String), elapsed_ms: expect.any(Number) });
  });

  it('params are bound, never interpolated (positional and named)', async () => {
    expect(await rows('SELECT label FROM small WHERE id = ?', [2])).toEqual([['two']]);
    expect(await rows('SELECT label FROM small WHERE label = $name', { name: "one' OR '1'='1" })).toEqual([]);
    expect(await rows('SELECT $1::VARCHAR AS v', ['x; DROP VIEW small'])).toEqual([['x; DROP VIEW small']]);
    expect(await rows('SELECT count(*) FROM small')).toEqual([[2]]);
    const wrong = await sql({ sql: 'SELECT ? + ?', params: [1] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.code).toBe('invalid_params');
    const bad = await sql({ sql: 'SELECT ?', params: [{ a: 1 }] });
    expect(bad.json.error.code).toBe('invalid_params');
  });

  it('row cap: limit and truncated', async () => {
    const r = await sql({ sql: 'SELECT id FROM workers ORDER BY id', limit: 5 });
    expect(r.json.rows).toEqual([[1], [2], [3], [4], [5]]);
    expect(r.json.truncated).toBe(true);
    expect(r.json.row_count).toBe(5);
    setEnv('LAKEHOUSE_SQL_MAX_ROWS', '7');
    const d = await sql({ sql: 'SELECT id FROM workers' });
    expect(d.json.rows).toHaveLength(7);
    expect(d.json.truncated).toBe(true);
    const exact = await sql({ sql: 'SELECT * FROM small', limit: 2 });
    expect(exact.json.truncated).toBe(false);
  });

  it('csv, ndjson and arrow bodies parse back with real parsers; Accept picks the format', async () => {
    const q = "SELECT id, first_name, city, hourly_rate, hire_date FROM workers WHERE city LIKE '%,%' ORDER BY id LIMIT 50";
    const json = await sql({ sql: q });
    const csv = await sql({ sql: q, format: 'csv' });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['x-lakehouse-row-count']).toBe('50');
    expect(csv.headers['x-lakehouse-truncated']).toBe('false');
    expect(csv.headers['x-lakehouse-query-id']).toBeTruthy();
    const parsed = parseCsv(csv.text, { columns: true }) as Array<Record<string, string>>;
    expect(parsed).toHaveLength(50);
    expect(parsed[0]!.city).toContain(',');
    expect(parsed.map((p) => Number(p.id))).toEqual(json.json.rows.map((r: unknown[]) => r[0]));
    expect(parsed.map((p) => p.city)).toEqual(json.json.rows.map((r: unknown[]) => r[2]));

    const nd = await sql({ sql: q }, { accept: 'application/x-ndjson' });
    expect(nd.headers['content-type']).toBe('application/x-ndjson');
    const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(50);
    expect(lines[0]).toEqual({
      id: json.json.rows[0][0],
      first_name: json.json.rows[0][1],
      city: json.json.rows[0][2],
      hourly_rate: json.json.rows[0][3],
      hire_date: json.json.rows[0][4],
    });

    const ar = await sql({ sql: q, format: 'arrow' });
    expect(ar.headers['content-type']).toBe('application/vnd.apache.arrow.stream');
    const t = tableFromIPC(ar.body);
    expect(t.numRows).toBe(50);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['id', 'first_name', 'city', 'hourly_rate', 'hire_date']);
    expect(Number(t.getChild('id')!.get(0))).toBe(json.json.rows[0][0]);
    expect(t.getChild('city')!.get(0)).toBe(json.json.rows[0][2]);
    const none = await sql({ sql: 'SELECT id, label FROM small WHERE id < 0', format: 'arrow' });
    expect(none.status).toBe(200);
    const empty = tableFromIPC(none.body);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => f.name)).toEqual(['id', 'label']);
    const noneCsv = await sql({ sql: 'SELECT id, label FROM small WHERE id < 0', format: 'csv' });
    expect(noneCsv.text).toBe('id,label\n');
    const noneJson = await sql({ sql: 'SELECT id, label FROM small WHERE id < 0' });
    expect(noneJson.json).toMatchObject({ rows: [], row_count: 0, truncated: false });
    const trunc = await sql({ sql: 'SELECT id FROM workers', format: 'arrow', limit: 3 });
    expect(tableFromIPC(trunc.body).numRows).toBe(3);
    expect(trunc.headers['x-lakehouse-truncated']).toBe('true');
  });

  it('a result over the inline cap is written whole to results/ with a presigned URL', async () => {
    setEnv('LAKEHOUSE_SQL_MAX_INLINE_BYTES', String(200 * 1024));
    for (const format of ['json', 'csv', 'ndjson', 'arrow'] as const) {
      const r = await sql({ sql: 'SELECT * FROM workers ORDER BY id', format, limit: 100_000 });
      expect(r.status).toBe(200);
      expect(r.body.length).toBeLessThan(200 * 1024);
      const url = format === 'json' ? r.json.result_url : r.headers['x-lakehouse-result-url'];
      expect(url).toMatch(/results\/[0-9a-f-]+\.(json|csv|ndjson|arrow)\?/);
      const full = Buffer.from(await (await fetch(url)).arrayBuffer());
      if (format === 'json') {
        const doc = JSON.parse(full.toString());
        expect(doc.rows).toHaveLength(WORKERS);
        expect(doc.row_count).toBe(WORKERS);
        expect(doc.rows[0]).toEqual(r.json.rows[0]);
        expect(r.json.row_count).toBe(WORKERS);
        expect(r.json.rows.length).toBe(r.json.rows_inline);
        expect(r.json.rows.length).toBeLessThan(WORKERS);
      } else if (format === 'csv') {
        expect(parseCsv(full, { columns: true })).toHaveLength(WORKERS);
      } else if (format === 'ndjson') {
        expect(full.toString().trim().split('\n')).toHaveLength(WORKERS);
      } else {
        expect(tableFromIPC(full).numRows).toBe(WORKERS);
        expect(tableFromIPC(r.body).numRows).toBeGreaterThan(0);
      }
    }
  });
});

describe('freshness and caching', () => {
  it('a dataset named like a CTE of another scope is still read (a CTE name is not global)', async () => {
    expect((await upload('y\n1\n2\n', { name: 'ctx' })).status.state).toBe('ready');
    await resetEngine(); // cold: the dataset is a placeholder until something materialises it
    const r = await sql({ sql: 'SELECT count(*) FROM ctx WHERE y IN (WITH ctx AS (SELECT 1 AS y) SELECT y FROM ctx)' });
    expect(r.status).toBe(200);
    expect(r.json.rows).toEqual([[1]]);
  });

  it('read-your-writes: a dataset is visible to the next /sql call after ready; a replace too', async () => {
    await rows('SELECT count(*) FROM small'); // warm engine
    const r = await upload('a,b\n1,2\n', { name: 'fresh' });
    expect(r.status.state).toBe('ready');
    expect(await rows('SELECT * FROM fresh')).toEqual([[1, 2]]);
    await upload('a,b\n3,4\n5,6\n', { name: 'fresh' });
    expect(await rows('SELECT * FROM fresh ORDER BY a')).toEqual([
      [3, 4],
      [5, 6],
    ]);
    await upload('a,b\n7,8\n', { name: 'fresh', mode: 'append' });
    expect(await rows('SELECT count(*) FROM fresh')).toEqual([[3]]);
  });

  it('a replace while a query runs: each query sees one version, never a mix', async () => {
    const build = (tag: string, n: number) => 'k,tag\n' + Array.from({ length: n }, (_, i) => `${i},${tag}`).join('\n') + '\n';
    await upload(build('old', 5000), { name: 'swap' });
    const slow = `SELECT tag, count(*) AS n FROM swap, range(300) GROUP BY tag`;
    const during = sql({ sql: slow });
    await upload(build('new', 3000), { name: 'swap' });
    const first = await during;
    const after = await sql({ sql: 'SELECT tag, count(*) AS n FROM swap GROUP BY tag' });
    expect(first.json.rows).toHaveLength(1); // one version only
    expect([['old', 5000 * 300], ['new', 3000 * 300]]).toContainEqual(first.json.rows[0]);
    expect(after.json.rows).toEqual([['new', 3000]]);
  });

  it('cache eviction: LRU within LAKEHOUSE_CACHE_MAX_BYTES, evicted data comes back on demand', async () => {
    const engine = await getEngine();
    const w = (await readHead('workers'))!.objects[0]!.size;
    const s = (await readHead('small'))!.objects[0]!.size;
    setEnv('LAKEHOUSE_CACHE_MAX_BYTES', String(w + s + 10));
    await rows('SELECT count(*) FROM workers');
    await rows('SELECT count(*) FROM small');
    const evictedBefore = engine.cache.evictions;
    await upload('x\n1\n', { name: 'third' });
    await rows('SELECT count(*) FROM third'); // pushes the least recently used out
    expect(engine.cache.evictions).toBeGreaterThan(evictedBefore);
    expect(engine.cache.bytes).toBeLessThanOrEqual(w + s + 10);
    const downloads = engine.cache.downloads;
    expect(await rows('SELECT count(*) FROM workers')).toEqual([[WORKERS]]);
    expect(engine.cache.downloads).toBeGreaterThan(downloads);
    setEnv('LAKEHOUSE_CACHE_MAX_BYTES', '10');
    const tooBig = await sql({ sql: 'SELECT count(*) FROM workers' });
    expect(tooBig.status).toBe(507);
    expect(tooBig.json.error.code).toBe('cache_too_small');
  });

  it('concurrent queries download each object once; 16 concurrent requests all answer correctly', async () => {
    await resetEngine();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        sql({ sql: 'SELECT count(*) AS n, max(id) AS m FROM workers WHERE id <= ?', params: [1000 + i] }),
      ),
    );
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.json.rows).toEqual([[1000 + i, 1000 + i]]);
    });
    const engine = await getEngine();
    expect(engine.cache.downloads).toBe(1);
  });
});

describe('cold start', () => {
  it('a cold engine loads the datasets a query names, at their newest version; SHOW TABLES lists every dataset', async () => {
    const { putObject } = await import('../lib/storage/objects.js');
    const { snapshotKey } = await import('../lib/catalog/snapshot.js');
    await resetEngine();
    await rows('SELECT count(*) FROM small');
    await upload('k\n1\n2\n', { name: 'after_snap' });
    await upload('id,label\n7,seven\n', { name: 'snapped' });
    await upload('id,label\n8,eight\n9,nine\n', { name: 'snapped' }); // v2
    await resetEngine();
    expect(await rows('SELECT id, label FROM snapped ORDER BY id')).toEqual([
      [8, 'eight'],
      [9, 'nine'],
    ]);
    expect((await getEngine()).datasetNames()).toEqual(['snapped']);
    const tables = (await rows('SHOW TABLES')).map((r) => r[0]);
    expect(tables).toEqual(expect.arrayContaining(['after_snap', 'snapped', 'small', 'workers']));
    // a corrupt snapshot is ignored, not fatal
    await putObject(snapshotKey(Date.now() + 60_000), Buffer.from('PAR1 garbage PAR1'));
    await resetEngine();
    expect(await rows('SELECT count(*) FROM after_snap')).toEqual([[2]]);
    expect((await rows('SHOW TABLES')).map((r) => r[0])).toEqual(expect.arrayContaining(['after_snap', 'snapped', 'small', 'workers']));
  });
});

describe('timeout', () => {
  it('a query over LAKEHOUSE_SQL_TIMEOUT_MS → 504 timeout, and the engine stays usable', async () => {
    setEnv('LAKEHOUSE_SQL_TIMEOUT_MS', '300');
    const started = Date.now();
    const r = await sql({ sql: 'SELECT count(*) FROM range(1000000000000) a' });
    expect(r.status).toBe(504);
    expect(r.json.error.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await rows('SELECT count(*) FROM small')).toEqual([[2]]);
  });
});

describe('sandbox: no way out', () => {
  const cases: Array<[string, string]> = [
    ['read_csv', "SELECT * FROM read_csv('/etc/passwd')"],
    ['read_text', "SELECT * FROM read_text('/proc/self/environ')"],
    ['glob', "SELECT * FROM glob('/**')"],
    ['replacement scan of a file', "SELECT * FROM '/etc/passwd'"],
    ['copy to', "COPY (SELECT * FROM workers) TO '/tmp/out.csv'"],
    ['copy from', "COPY workers FROM '/etc/passwd'"],
    ['export database', "EXPORT DATABASE '/tmp/dump'"],
    ['attach', "ATTACH '/tmp/x.duckdb' AS x"],
    ['install', 'INSTALL httpfs'],
    ['load', "LOAD '/tmp/evil.duckdb_extension'"],
    ['set', "SET allowed_directories = ['/']"],
    ['reset', 'RESET enable_external_access'],
    ['pragma', 'PRAGMA enable_profiling'],
    ['create', 'CREATE TABLE t AS SELECT 1'],
    ['create view', 'CREATE OR REPLACE VIEW workers AS SELECT 1 AS id'],
    ['drop', 'DROP VIEW workers'],
    ['insert', 'INSERT INTO workers (id) VALUES (1)'],
    ['getenv', "SELECT getenv('AWS_SECRET_ACCESS_KEY')"],
    ['current_setting', "SELECT current_setting('allowed_directories')"],
    ['duckdb_secrets', 'SELECT * FROM duckdb_secrets()'],
    ['duckdb_settings', 'SELECT name, value FROM duckdb_settings()'],
    ['duckdb_views', 'SELECT sql FROM duckdb_views()'],
    ['information_schema', 'SELECT * FROM information_schema.views'],
    ['read_parquet s3', "SELECT * FROM read_parquet('s3://lakehouse/datasets/workers/x.parquet')"],
    ['read_parquet url', "SELECT * FROM read_parquet('https://example.com/x.parquet')"],
    ['multi-statement', 'SELECT 1; DROP VIEW workers'],
    ['query_table', "SELECT * FROM query_table('workers')"],
    ['call', 'CALL duckdb_settings()'],
    ['nested function', "SELECT upper(current_setting('home_directory'))"],
    ['in a cte', "WITH x AS (SELECT * FROM read_blob('/etc/hostname')) SELECT * FROM x"],
    ['checkpoint', 'CHECKPOINT'],
    ['detach', 'DETACH memory'],
    ['use', 'USE system'],
  ];

  for (const [label, q] of cases) {
    it(`${label} → 403 forbidden_statement (or a 400 that leaks nothing)`, async () => {
      const r = await sql({ sql: q });
      expect([400, 403]).toContain(r.status);
      if (r.status === 400) expect(r.json.error.code).toBe('sql_error');
      else expect(r.json.error.code).toBe('forbidden_statement');
      const tmp = config().tmpDir;
      expect(r.text).not.toContain(tmp);
      expect(r.text).not.toContain('S3RVER');
      expect(r.text).not.toMatch(/root:x:0:0/);
    });
  }

  it('the cached file of another dataset cannot be read by path', async () => {
    await rows('SELECT count(*) FROM small');
    const engine = await getEngine();
    const key = (await readHead('small'))!.objects[0]!.key;
    const file = engine.cache.fileFor(key);
    expect(fs.existsSync(file)).toBe(true);
    for (const q of [`SELECT * FROM read_parquet('${file}')`, `SELECT * FROM '${file}'`, `SELECT * FROM parquet_scan('${file}')`]) {
      const r = await sql({ sql: q });
      expect(r.status).toBe(403);
      expect(r.text).not.toContain(engine.cache.dir);
    }
  });

  it('the views survive every attempt; the sandbox settings are locked', async () => {
    expect(await rows('SELECT count(*) FROM workers')).toEqual([[WORKERS]]);
    const engine = await getEngine();
    const con = await engine.connect();
    await expect(con.run("SET enable_external_access = true")).rejects.toThrow(/locked/i);
    await expect(con.run("SELECT * FROM read_csv('/etc/passwd')")).rejects.toThrow(/Permission|disabled/i);
    con.closeSync();
  });
});
