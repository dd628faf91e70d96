/** Pure pieces of lib/query and the /sql response shaping: no S3 server needed. */
import { describe, it, expect } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseSqlRequest, formatFromAccept } from '../lib/query/request.js';
import { csvHeader, jsonString, unsafeIntegerPattern } from '../lib/query/encode.js';
import { rowExpression, shape } from '../lib/query/statements.js';
import { directDecoder, directSql, partsRows, type ChunkDecoder } from '../lib/query/wide-rows.js';
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

  /** Each column cycles through its values over `rows` rows, so every value meets every other column's. */
  function cyclingSelect(cols: Array<[string, string, string[]]>, rows: number): string {
    const select = cols.map(([name, type, values]) => `([${values.join(', ')}]::${type}[])[r % ${values.length} + 1] AS "${name.replace(/"/g, '""')}"`);
    return `SELECT ${select.join(', ')} FROM range(${rows}) t(r) ORDER BY r`;
  }

  /** Every row, in every format, as DuckDB's row expression (narrow), as DuckDB-built parts, and (if it applies) as JS-encoded values. */
  async function compareEncodings(con: DuckDBConnection, userSql: string, direct: boolean): Promise<number> {
    const s = await shape(con, userSql, undefined);
    const drain = async (sql: string, decode: ChunkDecoder) => {
      const res = await (await con.prepare(sql)).stream();
      const got: string[] = [];
      let ended = false;
      for (let chunk = await res.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await res.fetchChunk()) {
        const d = decode(chunk);
        got.push(...d.rows);
        ended ||= d.ended;
      }
      expect(ended).toBe(true);
      return got;
    };
    let compared = 0;
    for (const format of ['json', 'csv', 'ndjson'] as const) {
      const narrow = await con.runAndReadAll(`SELECT ${rowExpression(format, s.columns)} ${s.from}`);
      const expected = narrow.getRows().map((r) => r[0] as string);
      const parts = partsRows(format, s.columns, s.from, 1_000_000);
      const results = { parts: await drain(parts.sql, parts.decode) } as Record<string, string[]>;
      const decoder = directDecoder(format, s.columns);
      expect(decoder !== undefined).toBe(direct);
      if (decoder) results.direct = await drain(directSql(userSql, s.columns.length, 1_000_000), decoder);
      for (const [how, got] of Object.entries(results)) {
        expect(got).toHaveLength(expected.length);
        for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) expect(got[i], `${how} ${format} row ${i}`).toBe(expected[i]);
        compared += got.length;
      }
      if (format === 'json') for (const row of expected) JSON.parse(row);
    }
    return compared;
  }

  const edgeCases: Array<[string, string, string[]]> = [
    ['b', 'BIGINT', ['9007199254740991', '9007199254740992', '-9007199254740993', '-9007199254740991', '-5', 'NULL', '0', '12345678901234567', '-9223372036854775808']],
    ['ub', 'UBIGINT', ['18446744073709551615', '1', 'NULL', '9007199254740991']],
    ['h', 'HUGEINT', ['170141183460469231731687303715884105727', '-1', '9007199254740992', '-170141183460469231731687303715884105727', 'NULL']],
    ['uh', 'UHUGEINT', ["'340282366920938463463374607431768211455'", "'9007199254740992'", "'9007199254740991'", "'0'", 'NULL']],
    ['i', 'INTEGER', ['-2147483648', '7', 'NULL']],
    ['si', 'SMALLINT', ['-32768', 'NULL']],
    ['ut', 'UTINYINT', ['255', 'NULL']],
    ['d', 'DOUBLE', ["'nan'", "'inf'", "'-inf'", '1.5', '-2.5e-10', '1e30', '-0.0', '5e-324', '1e300', '0.1', 'NULL', '123456789012345680000', '1e-5', '1e-6', '1e-7', '1e15', '1e16', '1e20', '1e21', '33', '-1.7976931348623157e308', '2.2250738585072014e-308']],
    ['v', 'VARCHAR', ["'plain'", "'a,b'", `'say "hi"'`, "' lead'", "'trail '", "'line' || chr(10) || 'break'", "'cr' || chr(13)", "''", 'NULL', "chr(9) || 'tab'", "chr(11) || 'vt'", "chr(12) || 'ff'", "chr(160) || 'nbsp'", "chr(31) || 'ctl' || chr(127) || chr(8)", "'é ü 漢 🎉'", "'back\\slash \\u0041'", `'"'`, "','", "'null'", "'1'"]],
    ['dec', 'DECIMAL(18,3)', ['0.001', '-12345.678', 'NULL', '0', '999999999999999.999']],
    ['dec38', 'DECIMAL(38,10)', ['1234567890123456789012345678.0123456789', '-0.0000000001', 'NULL']],
    ['dec4', 'DECIMAL(4,0)', ['-9999', '0', 'NULL']],
    ['ts', 'TIMESTAMP', ["'2024-02-29 13:14:15.5'", "TIMESTAMP '0001-01-01 00:00:00.000001' - INTERVAL 1 DAY", "TIMESTAMP '0001-01-01 23:59:59.1' - INTERVAL 1 YEAR", "'1969-12-31 00:00:00.01'", "'1970-01-01'", 'NULL', "'infinity'", "'-infinity'", "TIMESTAMP '0044-03-15 12:00:00' - INTERVAL 2100 YEAR", "'294247-01-10 04:00:54.775806'", "'1969-12-31 23:59:59.999999'"]],
    ['dt', 'DATE', ["'2024-02-29'", "'0044-03-15'", 'NULL', "'infinity'", "'-infinity'", "'0001-01-01 (BC)'", "'0001-12-31 (BC)'", "'0001-01-01'", "'0005-02-29 (BC)'", "'1600-02-29'", "'1900-03-01'", "'5881580-07-10'", "'5877642-06-25 (BC)'", "'1969-12-31'"]],
    ['bo', 'BOOLEAN', ['true', 'false', 'NULL']],
    ['say "x"', 'VARCHAR', ["'n'"]],
    [`ctl${String.fromCharCode(31)}name`, 'INTEGER', ['1']],
    ['back\\u0041slash', 'INTEGER', ['2']],
    ['dup', 'INTEGER', ['3']],
    ['dup', 'INTEGER', ['4']],
  ];
  // types only DuckDB encodes (a result with any of them takes the parts path)
  const sqlOnly: Array<[string, string, string[]]> = [
    ['f', 'FLOAT', ['0.1', "'nan'", "'-inf'", '3.4e38', 'NULL', '1e-45', '16777217', '1e15', '1e16', '0.3', '-0.0', '1e-5', '757219968']],
    ['tstz', 'TIMESTAMPTZ', ["'2024-02-29 13:14:15.5+02'", 'NULL']],
    ['tm', 'TIME', ["'23:59:59.999999'", 'NULL']],
    ['iv', 'INTERVAL', ["INTERVAL 3 DAY", "INTERVAL '1 year 2 months'", 'NULL']],
    ['bl', 'BLOB', ["'\\x00\\xFFab'::BLOB", "''::BLOB", 'NULL']],
    ['u', 'UUID', ["'6ba7b810-9dad-11d1-80b4-00c04fd430c8'", 'NULL']],
    ['li', 'BIGINT[]', ['[1, 9007199254740993, NULL]', '[]', 'NULL']],
    ['ld', 'DOUBLE[]', ["['nan'::DOUBLE, 1.5]", 'NULL']],
    ['st', 'STRUCT(a BIGINT, "b,c" VARCHAR)', [`{'a': 9007199254740993, 'b,c': 'x"y'}`, 'NULL']],
    ['mp', 'MAP(VARCHAR, BIGINT)', ["MAP {'k': 1}", 'NULL']],
  ];

  it('wide rows are byte for byte the narrow rows (built in SQL): edge cases of every type, every format', async () => {
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      await con.run(`SET TimeZone = 'UTC'`);
      expect(await compareEncodings(con, cyclingSelect(edgeCases, 40), true)).toBe(40 * 3 * 2);
      expect(await compareEncodings(con, cyclingSelect([...edgeCases, ...sqlOnly], 40), false)).toBe(40 * 3);
    } finally {
      con.closeSync();
    }
  });

  it('JS-encoded values match DuckDB on random doubles, dates, timestamps and decimals, and on every power of two', async () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
    const doubles: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const v = Number(`${rnd() < 0.5 ? '-' : ''}${1 + Math.floor(rnd() * 9)}.${digits(Math.floor(rnd() * 17))}e${Math.floor(rnd() * 640) - 325}`);
      if (Number.isFinite(v)) doubles.push(String(v));
    }
    const days = Array.from({ length: 3000 }, (_, i) => String(Math.floor((rnd() * 2 - 1) * (i % 2 ? 2_147_483_000 : 1_500_000))));
    const micros = Array.from({ length: 3000 }, (_, i) => (i % 2 ? `${rnd() < 0.5 ? '-' : ''}${digits(1 + Math.floor(rnd() * 18)).replace(/^0+(?=.)/, '')}` : String(Math.floor((rnd() * 2 - 1) * 1e17))));
    const decimals = Array.from({ length: 3000 }, () => `'${rnd() < 0.5 ? '-' : ''}${digits(1 + Math.floor(rnd() * 27))}.${digits(10)}'`);
    const cols: Array<[string, string, string[]]> = [
      ['d', 'DOUBLE', doubles],
      ['dec', 'DECIMAL(38,10)', decimals],
    ];
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const base = cyclingSelect(cols, 3000).replace(/ FROM range/, `, DATE '1970-01-01' + ([${days.join(', ')}]::INTEGER[])[r % 3000 + 1] AS dt, make_timestamp(([${micros.join(', ')}]::BIGINT[])[r % 3000 + 1]) AS ts FROM range`);
      expect(await compareEncodings(con, base, true)).toBe(3000 * 3 * 2);
      // powers of two: where a double's rounding interval is lopsided and ties between candidates arise
      const pow2 = Array.from({ length: 2098 }, (_, i) => `${i % 2 ? '-' : ''}pow(2, ${(i >> 1) - 1074})`);
      expect(await compareEncodings(con, cyclingSelect([['p', 'DOUBLE', pow2]], pow2.length), true)).toBe(pow2.length * 3 * 2);
    } finally {
      con.closeSync();
    }
  });

  it('jsonString writes keys as DuckDB does', () => {
    expect(jsonString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(jsonString(`x${String.fromCharCode(31)}`)).toBe('"x\\u001F"');
    expect(jsonString('\\u001f')).toBe('"\\\\u001f"');
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
