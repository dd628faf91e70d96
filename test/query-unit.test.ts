/** Pure pieces of lib/query and the /sql response shaping: no S3 server needed. */
import { describe, it, expect } from 'vitest';
import { DuckDBInstance, BIGINT, DOUBLE, VARCHAR, TIMESTAMP, type DuckDBType } from '@duckdb/node-api';
import { parseSqlRequest, formatFromAccept } from '../lib/query/request.js';
import { csvExpr, csvHeader, jsonExpr, unsafeIntegerPattern } from '../lib/query/encode.js';
import { cleaner } from '../lib/query/duck-errors.js';
import { Deadline } from '../lib/query/deadline.js';
import { sqlResponse } from '../lib/http/sql-response.js';
import { LakehouseError } from '../lib/errors.js';
import { selectObjects, tableFilter } from '../lib/query/prune.js';
import type { StoredManifest } from '../lib/catalog/manifest.js';

describe('parseSqlRequest / formatFromAccept', () => {
  it('Accept picks the format; the body overrides it', () => {
    expect(formatFromAccept(undefined)).toBeUndefined();
    expect(formatFromAccept('application/vnd.apache.arrow.stream')).toBe('arrow');
    expect(formatFromAccept('application/x-ndjson')).toBe('ndjson');
    expect(formatFromAccept('TEXT/CSV; q=1')).toBe('csv');
    expect(formatFromAccept('*/*')).toBeUndefined();
    expect(parseSqlRequest({ sql: 'SELECT 1' }, 'text/csv').format).toBe('csv');
    expect(parseSqlRequest({ sql: 'SELECT 1', format: 'json' }, 'text/csv').format).toBe('json');
  });

  it('params: integers become BIGINT, other values pass, anything else is refused', () => {
    expect(parseSqlRequest({ sql: 'SELECT ?, ?, ?, ?', params: [1, 1.5, 'x', null] }).params).toEqual([1n, 1.5, 'x', null]);
    expect(parseSqlRequest({ sql: 'SELECT $a', params: { a: true } }).params).toEqual({ a: true });
    const code = (body: unknown) => {
      try {
        parseSqlRequest(body);
      } catch (e) {
        return (e as LakehouseError).code;
      }
      return 'ok';
    };
    expect(code(null)).toBe('invalid_request');
    expect(code({ sql: '  ' })).toBe('invalid_request');
    expect(code({ sql: 'SELECT 1\0' })).toBe('invalid_request');
    expect(code({ sql: 'x'.repeat(100_001) })).toBe('invalid_request');
    expect(code({ sql: 'SELECT ?', params: [{}] })).toBe('invalid_params');
    expect(code({ sql: 'SELECT ?', params: 'x' })).toBe('invalid_params');
    expect(code({ sql: 'SELECT 1', limit: -1 })).toBe('invalid_request');
    expect(code({ sql: 'SELECT 1', limit: 1.5 })).toBe('invalid_request');
    expect(code({ sql: 'SELECT 1', format: 'xml' })).toBe('invalid_request');
    expect(parseSqlRequest({ sql: 'SELECT 1', limit: 0 }).limit).toBe(0);
  });
});

describe('encoders', () => {
  it('the unsafe-integer pattern is exactly |v| > 2^53-1', () => {
    const re = new RegExp(unsafeIntegerPattern());
    for (const v of ['9007199254740991', '-9007199254740991', '1000000000000000', '9007199254740990', '0', '-1']) expect(re.test(v)).toBe(false);
    for (const v of ['9007199254740992', '-9007199254740993', '9999999999999999', '9017199254740991', '12345678901234567']) expect(re.test(v)).toBe(true);
  });

  it('csvHeader quotes only what needs quoting', () => {
    expect(csvHeader(['a', 'b,c', 'd"e', ' f'])).toBe('a,"b,c","d""e"," f"');
  });

  it('the single-reference (wide) expressions encode exactly like the narrow ones', async () => {
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const cases: Array<[string, DuckDBType]> = [
        [`(VALUES (9007199254740991::BIGINT), (9007199254740992), (-9007199254740993), (-5), (NULL)) t(x)`, BIGINT],
        [`(VALUES ('nan'::DOUBLE), ('inf'), ('-inf'), (1.5), (-2.5e-10), (1e30), (NULL)) t(x)`, DOUBLE],
        [`(VALUES ('plain'), ('a,b'), ('say "hi"'), (' lead'), ('trail '), ('line\nbreak'), (''), (NULL)) t(x)`, VARCHAR],
        [`(VALUES (TIMESTAMP '2024-02-29 13:14:15.5'), (NULL)) t(x)`, TIMESTAMP],
      ];
      for (const [from, type] of cases) {
        const r = await con.runAndReadAll(
          `SELECT (${jsonExpr('x', type)})::VARCHAR, (${jsonExpr('x', type, true)})::VARCHAR, ${csvExpr('x', type)}, ${csvExpr('x', type, true)} FROM ${from}`,
        );
        for (const [narrowJson, wideJson, narrowCsv, wideCsv] of r.getRows()) {
          expect(wideJson).toBe(narrowJson);
          expect(wideCsv).toBe(narrowCsv);
        }
      }
    } finally {
      con.closeSync();
    }
  });
});

describe('error cleaning, deadline, response shaping', () => {
  it('cleaner hides local paths, Parquet paths and credentials', () => {
    const clean = cleaner(['/tmp/lake/cache', '/tmp/lake']);
    expect(clean('IO Error: /tmp/lake/x and /tmp/lake/cache/y')).toBe('IO Error: <local>/x and <local>/y');
    expect(clean('No files found at /data/x/y.parquet')).toBe('No files found at <file>');
  });

  it('a deadline runs its actions once and check() throws the timeout afterwards', async () => {
    const d = new Deadline(20);
    let fired = 0;
    d.onExpire(() => fired++);
    expect(() => d.check()).not.toThrow();
    await d.passed;
    expect(fired).toBe(1);
    expect(d.expired).toBe(true);
    expect(() => d.check()).toThrow(/longer than/);
    let late = 0;
    d.onExpire(() => late++);
    expect(late).toBe(1);
    d.cancel();
  });

  it('sqlResponse builds status, content type and the x-lakehouse headers', () => {
    const r = sqlResponse({ format: 'csv', body: 'a\n1\n', rowCount: 1, truncated: false, queryId: 'q', elapsedMs: 5, execMs: 3, uploadMs: 0 });
    expect(r).toEqual({
      status: 200,
      raw: { body: 'a\n1\n', contentType: 'text/csv; charset=utf-8' },
      headers: { 'x-lakehouse-row-count': '1', 'x-lakehouse-truncated': 'false', 'x-lakehouse-query-id': 'q', 'x-lakehouse-elapsed-ms': '5', 'server-timing': 'exec;dur=3' },
    });
    const spilled = sqlResponse({ format: 'json', body: '{}', rowCount: 9, truncated: true, queryId: 'q', elapsedMs: 5, execMs: 3, uploadMs: 2, resultUrl: 'https://x' });
    expect(spilled.headers).toMatchObject({ 'x-lakehouse-result-url': 'https://x', 'server-timing': 'exec;dur=3, upload;dur=2' });
    expect(spilled.raw!.contentType).toBe('application/json');
  });
});

describe('pruning (prune.ts) on DuckDB\'s own AST', () => {
  const manifest = (stats: Array<{ min: string; max: string }>, type: string) =>
    ({
      dataset_id: 'x',
      name: 't',
      schema_fingerprint: 'f',
      schema: [{ name: 'v', type, nullable: true }],
      objects: stats.map((s, i) => ({ key: `datasets/t/o${i}.parquet`, size: 1, row_count: 1, stats: [{ name: 'v', min: s.min, max: s.max, nulls: 0 }] })),
      row_count: stats.length,
      version: 1,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      commit_id: '',
      mode: 'create',
    }) as StoredManifest;
  const kept = async (sql: string, m: StoredManifest) => {
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const r = await con.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
    return selectObjects(m, tableFilter(JSON.parse(String(r.getRows()[0]![0])).statements)).length;
  };

  it('keeps what it cannot compare exactly: hour 24, integers past 2^53, other types', async () => {
    const ts = manifest([{ min: '2024-03-01 00:00:00', max: '2024-03-01 00:00:00' }, { min: '2024-05-01 00:00:00', max: '2024-05-01 00:00:00' }], 'TIMESTAMP');
    expect(await kept("SELECT * FROM t WHERE v = '2024-03-01 00:00:00'", ts)).toBe(1);
    expect(await kept("SELECT * FROM t WHERE v = '2024-02-29 24:00:00'", ts)).toBe(2); // DuckDB: March 1st
    const big = manifest([{ min: '9007199254740993', max: '9007199254740993' }, { min: '1', max: '5' }], 'BIGINT');
    expect(await kept('SELECT * FROM t WHERE v = 3', big)).toBe(1);
    expect(await kept('SELECT * FROM t WHERE v = 9007199254740993', big)).toBe(2); // the AST's JSON rounds it
    expect(await kept("SELECT * FROM t WHERE v = '3'", big)).toBe(2); // a string against a BIGINT: DuckDB casts, we do not guess
  });
});
