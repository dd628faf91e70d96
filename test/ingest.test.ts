import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { freshBucket } from './helpers/s3.js';
import { upload, presignAndPut, deliver, getStatus, datasetRows, csvAllVarchar, cellsSurvive } from './helpers/ingest.js';
import { callHttp } from './helpers/lambda.js';
import { handler as presign } from '../functions/presign-upload.js';
import { loadCatalog, readHead } from '../lib/catalog/store.js';
import { listAll, putObject } from '../lib/storage/objects.js';
import { handler as ingest } from '../functions/ingest.js';
import { s3Event, lambdaContext } from './helpers/lambda.js';
import { parse as parseCsv } from 'csv-parse/sync';

let bucket: string;
beforeAll(async () => {
  bucket = await freshBucket('ing');
});

async function catalogSnapshot() {
  return JSON.stringify(await loadCatalog());
}

async function expectReady(content: string | Buffer, name: string, opts: Record<string, unknown> = {}) {
  const r = await upload(content, { name, ...opts });
  if (r.status.state !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(r.status)}`);
  return r;
}

async function expectFailed(content: string | Buffer, name: string, code: string, opts: Record<string, unknown> = {}) {
  const before = await catalogSnapshot();
  const r = await upload(content, { name, ...opts });
  expect(r.status.state).toBe('failed');
  expect(r.status.error.code).toBe(code);
  expect(r.status.error.message).toEqual(expect.any(String));
  expect(await catalogSnapshot()).toBe(before); // catalog unchanged
  // the raw upload is kept
  expect((await listAll(r.presign.key)).objects).toHaveLength(1);
  return r;
}

function typesOf(status: { dataset: { schema: Array<{ name: string; type: string }> } }) {
  return Object.fromEntries(status.dataset.schema.map((c) => [c.name, c.type]));
}

describe('presign', () => {
  it('returns a presigned PUT, the key, and a pending status record', async () => {
    const r = await callHttp(presign, {
      method: 'POST',
      path: '/uploads',
      body: { name: 'Workers_500K', size: 10, filename: 'w.tsv.gz' },
      headers: { host: '127.0.0.1:3000' },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      name: 'workers_500k',
      mode: 'replace',
      method: 'PUT',
      key: expect.stringMatching(/^uploads\/workers_500k\/[0-9a-f-]{36}\.tsv\.gz$/),
      url: expect.stringContaining('X-Amz-Signature='),
      status_url: `http://127.0.0.1:3000/uploads/${r.json.upload_id}`,
      headers: { 'Content-Length': '10' },
    });
    expect(r.json.url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);
    expect(Date.parse(r.json.expires_at) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
    const s = await getStatus(r.json.upload_id);
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ upload_id: r.json.upload_id, name: 'workers_500k', state: 'pending', mode: 'replace' });
  });

  it('validates: name, mode, size over the limit (413), bad_rows; the client cannot choose the key', async () => {
    const bad = (body: unknown) => callHttp(presign, { method: 'POST', path: '/uploads', body });
    expect((await bad({ name: 'no spaces' })).json.error.code).toBe('invalid_name');
    expect((await bad({})).json.error.code).toBe('invalid_name');
    expect((await bad({ name: 'x', mode: 'upsert' })).json.error.code).toBe('invalid_mode');
    expect((await bad({ name: 'x', size: -1 })).json.error.code).toBe('invalid_size');
    expect((await bad({ name: 'x', bad_rows: 'drop' })).json.error.code).toBe('invalid_bad_rows');
    const big = await bad({ name: 'x', size: 3 * 1024 ** 3 });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('too_large');
    const r = await bad({ name: 'x', key: 'datasets/x/evil.parquet', filename: '../../etc/passwd' });
    expect(r.status).toBe(201);
    expect(r.json.key).toMatch(/^uploads\/x\/[0-9a-f-]{36}\.csv$/);
    expect((await bad([1, 2])).json.error.code).toBe('invalid_request');
  });

  it('unknown upload id → 404', async () => {
    const s = await getStatus('0190aaaa-0000-7000-8000-000000000000');
    expect(s.status).toBe(404);
    expect(s.json.error.code).toBe('not_found');
  });
});

describe('ingest: formats and types', () => {
  it('a clean CSV: every type, report and timings; every cell survives', async () => {
    const csv =
      'id,name,score,active,joined,seen_at,zip\n' +
      '1,Alice,9.5,true,2024-01-31,2024-01-31 10:00:00,02134\n' +
      '2,Bob,-3.25,FALSE,2024-02-29,2024-02-29T23:59:59.123456,10001\n' +
      '3,,,,,,\n' +
      '-4,"Smith, Jr.",1e3,True,1999-12-31,1999-12-31 00:00:00.5,99501\n';
    const r = await expectReady(csv, 'clean');
    expect(typesOf(r.status)).toEqual({
      id: 'BIGINT',
      name: 'VARCHAR',
      score: 'DOUBLE',
      active: 'BOOLEAN',
      joined: 'DATE',
      seen_at: 'TIMESTAMP',
      zip: 'VARCHAR',
    });
    expect(r.status.row_count).toBe(4);
    expect(r.status.dataset.row_count).toBe(4);
    expect(r.status.report.conversion).toMatch(/^started while scanning/);
    expect(r.status.dataset.objects[0].key).toMatch(new RegExp(`^datasets/clean/[0-9a-f]{16}/${r.presign.upload_id}\\.parquet$`));
    const zip = r.status.report.columns.find((c: { name: string }) => c.name === 'zip');
    expect(zip.reason).toMatch(/"02134".*leading zero/);
    expect(r.status.report.dialect).toMatchObject({ delimiter: ',', quote: '"', header: true, line_ending: 'LF' });
    for (const phase of ['download', 'detect', 'convert', 'upload', 'commit', 'total']) {
      expect(r.status.timings_ms[phase]).toEqual(expect.any(Number));
    }
    const got = await datasetRows('clean', 'id');
    const src = (await csvAllVarchar(csv)).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(cellsSurvive(src, got)).toEqual([]);
  });

  it('TSV, semicolons, pipes', async () => {
    const tsv = 'a\tb\tc\n1\tx y\t2.5\n2\tz\t3\n';
    const r = await expectReady(tsv, 'tabs', { filename: 'data.tsv' });
    expect(r.status.report.dialect.delimiter).toBe('\t');
    expect(typesOf(r.status)).toEqual({ a: 'BIGINT', b: 'VARCHAR', c: 'DOUBLE' });
    const semi = 'a;b;c\n1;"x;y";2,5\n2;z;3,75\n';
    const s = await expectReady(semi, 'semis');
    expect(s.status.report.dialect.delimiter).toBe(';');
    expect(typesOf(s.status)).toEqual({ a: 'BIGINT', b: 'VARCHAR', c: 'VARCHAR' });
    expect(cellsSurvive(await csvAllVarchar(semi, { delim: ';' }), await datasetRows('semis', 'a'))).toEqual([]);
    const pipe = 'a|b\n1|x\n2|y\n3|z\n';
    expect((await expectReady(pipe, 'pipes')).status.report.dialect.delimiter).toBe('|');
  });

  it('quoted fields with delimiters, doubled quotes and newlines; CRLF; BOM', async () => {
    const csv = '\ufeffid,text\r\n1,"a, b"\r\n2,"she said ""hi"""\r\n3,"line one\r\nline two"\r\n4,plain\r\n';
    const r = await expectReady(csv, 'quoted');
    expect(r.status.report.dialect).toMatchObject({ bom: true, line_ending: 'CRLF' });
    expect(r.status.dataset.schema.map((c: { name: string }) => c.name)).toEqual(['id', 'text']);
    const got = await datasetRows('quoted', 'id');
    expect(got.rows.map((x) => x[1])).toEqual(['a, b', 'she said "hi"', 'line one\r\nline two', 'plain']);
  });

  it('gzip by magic bytes (whatever the name says)', async () => {
    const csv = 'k,v\n' + Array.from({ length: 1000 }, (_, i) => `${i},v${i}`).join('\n') + '\n';
    const gz = zlib.gzipSync(csv);
    const r = await expectReady(gz, 'gz', { filename: 'data.csv.gz' });
    expect(r.status.row_count).toBe(1000);
    expect(r.status.timings_ms.decompress).toEqual(expect.any(Number));
    const r2 = await expectReady(zlib.gzipSync('a\n1\n'), 'gz2', { filename: 'data.csv' });
    expect(r2.status.row_count).toBe(1);
  });

  it('a column that is integer for 99,999 rows and "N/A" in the last is VARCHAR, nothing lost', async () => {
    const lines = ['n,label'];
    for (let i = 1; i < 100_000; i++) lines.push(`${i},r${i}`);
    lines.push('N/A,last');
    const csv = lines.join('\n') + '\n';
    const r = await expectReady(csv, 'late_na');
    expect(typesOf(r.status)).toEqual({ n: 'VARCHAR', label: 'VARCHAR' });
    expect(r.status.row_count).toBe(100_000);
    const col = r.status.report.columns[0];
    expect(col.reason).toContain('"N/A" on line 100001');
    // the conversion started with the head sample's types was thrown away: the full scan decides
    expect(r.status.report.conversion).toBe('after the scan');
    const got = await datasetRows('late_na');
    expect(got.rows[99_999]).toEqual(['N/A', 'last']);
    expect(got.rows[41]).toEqual(['42', 'r42']);
  });

  it('values beyond int64 and 17-digit decimals stay text; int64 bounds stay BIGINT; 15 digits stay DOUBLE', async () => {
    const csv =
      'big,edge,dec17,dec15,neg\n' +
      '9223372036854775808,9223372036854775807,0.12345678901234567,1234567.89012345,-9223372036854775808\n' +
      '1,-9223372036854775808,1.5,2.5,-1\n';
    const r = await expectReady(csv, 'numbers');
    expect(typesOf(r.status)).toEqual({ big: 'VARCHAR', edge: 'BIGINT', dec17: 'VARCHAR', dec15: 'DOUBLE', neg: 'BIGINT' });
    const got = await datasetRows('numbers');
    expect(got.rows[0]![0]).toBe('9223372036854775808');
    expect(String(got.rows[0]![1])).toBe('9223372036854775807');
    expect(got.rows[0]![2]).toBe('0.12345678901234567');
    expect(cellsSurvive(await csvAllVarchar(csv), got)).toEqual([]);
  });

  it('ISO dates and timestamps; invalid calendar days stay text', async () => {
    const csv = 'd,ts,bad\n2024-02-29,2024-02-29T12:34:56.789,2023-02-29\n2000-01-01,2000-01-01 00:00:00,2023-01-01\n';
    const r = await expectReady(csv, 'dates');
    expect(typesOf(r.status)).toEqual({ d: 'DATE', ts: 'TIMESTAMP', bad: 'VARCHAR' });
    expect(cellsSurvive(await csvAllVarchar(csv), await datasetRows('dates', 'd DESC'))).toEqual([]);
  });

  it('duplicate and blank header names are made unique and reported', async () => {
    const r = await expectReady('id,name,Name,,id\n1,a,b,c,2\n', 'dupes');
    expect(r.status.dataset.schema.map((c: { name: string }) => c.name)).toEqual(['id', 'name', 'Name_2', 'column_4', 'id_2']);
    expect(r.status.report.notes.join(' ')).toMatch(/duplicate header name "Name".*Name_2/);
    expect(r.status.report.notes.join(' ')).toMatch(/blank header name/);
  });

  it('header-only file makes an empty dataset', async () => {
    const r = await expectReady('a,b,c\n', 'empty_ds');
    expect(r.status.row_count).toBe(0);
    expect(r.status.dataset.row_count).toBe(0);
    expect(r.status.dataset.schema).toHaveLength(3);
  });

  it('a file without a header gets column_1..N', async () => {
    const r = await expectReady('1,alice,2024-01-01\n2,bob,2024-01-02\n', 'nohead');
    expect(r.status.dataset.schema).toEqual([
      { name: 'column_1', type: 'BIGINT', nullable: true },
      { name: 'column_2', type: 'VARCHAR', nullable: true },
      { name: 'column_3', type: 'DATE', nullable: true },
    ]);
    expect(r.status.row_count).toBe(2);
  });

  it('Windows-1252 text is transcoded and reported', async () => {
    const bytes = Buffer.concat([Buffer.from('city,n\n'), Buffer.from([0x4d, 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e]), Buffer.from(',1\n')]);
    const r = await expectReady(bytes, 'latin');
    expect(r.status.report.dialect.encoding).toBe('windows-1252');
    expect((await datasetRows('latin')).rows[0]![0]).toBe('München');
  });
});

describe('ingest: failures leave the catalog unchanged', () => {
  it('empty file', async () => {
    await expectFailed('', 'f_empty', 'empty_file');
  });
  it('binary garbage', async () => {
    await expectFailed(crypto.randomBytes(4096), 'f_bin', 'not_text');
  });
  it('ragged row: the first offending line is reported', async () => {
    const r = await expectFailed('a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n', 'f_ragged', 'ragged_row');
    expect(r.status.error.line).toBe(4);
    expect(r.status.error.column).toBe(4);
    expect(r.status.error.message).toMatch(/Line 4/);
  });
  it('oversize object is refused before download (HEAD first)', async () => {
    process.env.LAKEHOUSE_MAX_UPLOAD_BYTES = '100';
    try {
      const r = await upload('a,b\n' + '1,2\n'.repeat(100), { name: 'f_big', sendSize: false });
      expect(r.status.state).toBe('failed');
      expect(r.status.error.code).toBe('too_large');
      expect(r.status.timings_ms.download).toBeUndefined();
    } finally {
      delete process.env.LAKEHOUSE_MAX_UPLOAD_BYTES;
    }
  });
  it('a PUT that differs from the declared size fails (the local server does not enforce signed sizes)', async () => {
    const { presign: p } = await presignAndPut('a\n1\n', { name: 'f_size' });
    // overwrite with other bytes through the same URL
    await fetch(p.url, { method: 'PUT', body: 'a\n1\n2\n3\n' });
    await deliver(bucket, p.key, 8);
    const s = await getStatus(p.upload_id);
    expect(s.json.state).toBe('failed');
    expect(s.json.error.code).toBe('size_mismatch');
  });
  it('invalid name in a direct put', async () => {
    await putObject('uploads/bad name!/u1.csv', 'a\n1\n');
    await ingest(s3Event(bucket, 'uploads/bad name!/u1.csv', 4), lambdaContext());
    const s = await getStatus('u1');
    expect(s.json.state).toBe('failed');
    expect(s.json.error.code).toBe('invalid_name');
  });
});

describe('bad_rows: quarantine', () => {
  it('sets aside exactly the rows that do not fit, verbatim with line numbers and reasons; loads the rest', async () => {
    const csv =
      'id,name,city\n' + // line 1
      '1,Ann,Oslo\n' + // 2
      '2,Bob,Rome,EXTRA\n' + // 3: too many fields
      '3,"Cy, Jr.",Paris\n' + // 4
      '4,Dee\n' + // 5: too few fields
      '5,"Multi\nline",Lima\n' + // 6-7: one record over two lines
      '6,Eve,"Kyiv"oops\n' + // 8: text after a closing quote
      '7,Fay,Bern\n'; // 9
    const r = await upload(csv, { name: 'quarantined', bad_rows: 'quarantine' });
    expect(r.status.state).toBe('ready');
    expect(r.status.row_count).toBe(4);
    expect(r.status.rejected_rows).toBe(3);
    expect(r.status.report.rejected_rows).toBe(3);
    expect(r.status.rejects_url).toMatch(/_rejects\/.*\.csv\?/);
    expect(r.status.rejects_key).toBeUndefined(); // internal
    const rejects = parseCsv(await (await fetch(r.status.rejects_url)).text(), { columns: true }) as Array<Record<string, string>>;
    expect(rejects).toEqual([
      { line: '3', reason: 'too many fields: expected 3, found 4', record: '2,Bob,Rome,EXTRA' },
      { line: '5', reason: 'too few fields: expected 3, found 2', record: '4,Dee' },
      { line: '8', reason: 'broken quoting: text after a closing quote', record: '6,Eve,"Kyiv"oops' },
    ]);
    const got = await datasetRows('quarantined', 'id');
    expect(got.columns.map((c) => c.type)).toEqual(['BIGINT', 'VARCHAR', 'VARCHAR']);
    expect(got.rows).toEqual([
      ['1', 'Ann', 'Oslo'], // DuckDB's JSON rows carry BIGINT as text
      ['3', 'Cy, Jr.', 'Paris'],
      ['5', 'Multi\nline', 'Lima'],
      ['7', 'Fay', 'Bern'],
    ]);
    // nothing dropped silently: loaded + rejected = every record of the file
    expect(got.rows.length + rejects.length).toBe(7);
  });

  it('fail (the default) stays strict on the same file', async () => {
    const r = await expectFailed('id,name\n1,a\n2,b,c\n', 'strict', 'ragged_row');
    expect(r.status.error.line).toBe(3);
    expect(r.status.rejects_url).toBeUndefined();
  });
});

describe('ingest: at-least-once delivery, modes, schema drift', () => {
  it('a direct put (aws s3 cp) is ingested with name from the key and mode replace; keys are decoded the AWS way', async () => {
    await putObject('uploads/Direct_Put/my file.csv', 'x,y\n1,2\n');
    await ingest(s3Event(bucket, 'uploads/Direct_Put/my file.csv', 8), lambdaContext());
    const s = await getStatus('my_file');
    expect(s.json).toMatchObject({ state: 'ready', name: 'direct_put', mode: 'replace', row_count: 1 });
  });

  it('a re-delivered event for a ready upload changes nothing', async () => {
    const r = await expectReady('a,b\n1,2\n', 'redeliver');
    const before = await readHead('redeliver');
    await deliver(bucket, r.presign.key, 8);
    await deliver(bucket, r.presign.key, 8);
    expect(await readHead('redeliver')).toEqual(before);
    const s = await getStatus(r.presign.upload_id);
    expect(s.json.updated_at).toBe(r.status.updated_at);
  });

  it('a re-delivered event for a ready upload: the download begun while the lease was taken is dropped, nothing left on disk', async () => {
    const body = 'a,b\n' + Array.from({ length: 200_000 }, (_, i) => `${i},x${i}`).join('\n') + '\n';
    const r = await expectReady(body, 'redeliver_big');
    const out = await deliver(bucket, r.presign.key, Buffer.byteLength(body));
    expect(out.results.map((o: { outcome: string }) => o.outcome)).toEqual(['skipped']);
    expect(fs.readdirSync(process.env.LAKEHOUSE_TMP_DIR!).filter((f) => f.startsWith('ingest-'))).toEqual([]);
    expect((await getStatus(r.presign.upload_id)).json.updated_at).toBe(r.status.updated_at);
  });

  it('two events for the same upload at once: one ingest, one version', async () => {
    const { presign: p, size } = await presignAndPut('a,b\n1,2\n3,4\n', { name: 'twice' });
    const [x, y] = await Promise.all([deliver(bucket, p.key, size), deliver(bucket, p.key, size)]);
    const outcomes = [...x.results, ...y.results].map((o: { outcome: string }) => o.outcome).sort();
    expect(outcomes).toEqual(['ready', 'skipped']);
    const head = await readHead('twice');
    expect(head?.version).toBe(1);
    expect((await getStatus(p.upload_id)).json.state).toBe('ready');
  });

  it('a crashed ingest (lease expired) is retried and commits once', async () => {
    const { presign: p, size } = await presignAndPut('a,b\n1,2\n', { name: 'crashy' });
    // simulate a crash: status stuck in ingesting with an expired lease
    const { readStatus, writeStatus } = await import('../lib/ingest/status.js');
    const rec = (await readStatus(p.upload_id))!;
    rec.state = 'ingesting';
    rec.lease = { owner: 'dead', expires_at: new Date(Date.now() - 1000).toISOString() };
    await writeStatus(rec);
    await deliver(bucket, p.key, size);
    const s = await getStatus(p.upload_id);
    expect(s.json.state).toBe('ready');
    expect((await readHead('crashy'))?.version).toBe(1);
  });

  it('append adds a second object; replace makes the new object the only one', async () => {
    const a = await expectReady('id,v\n1,a\n2,b\n', 'modes');
    const b = await expectReady('id,v\n3,c\n', 'modes', { mode: 'append' });
    expect(b.status.dataset.objects).toHaveLength(2);
    expect(b.status.dataset.row_count).toBe(3);
    expect(b.status.dataset.version).toBe(2);
    expect((await datasetRows('modes', 'id')).rows.map((r) => r[1])).toEqual(['a', 'b', 'c']);
    const c = await expectReady('id,v\n9,z\n', 'modes', { mode: 'replace' });
    expect(c.status.dataset.objects).toHaveLength(1);
    expect(c.status.dataset.row_count).toBe(1);
    expect(a.status.dataset.dataset_id).toBe(c.status.dataset.dataset_id);
  });

  it('schema drift on replace: schema_conflict with a diff, and the old data still answers', async () => {
    await expectReady('id,v\n1,a\n', 'drift');
    const before = await datasetRows('drift');
    const r = await expectFailed('id,v,extra\n1,a,x\n', 'drift', 'schema_conflict');
    expect(r.status.error.diff.added).toEqual([{ name: 'extra', type: 'VARCHAR' }]);
    expect(r.status.error.current_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(await datasetRows('drift')).toEqual(before);
    const t = await expectFailed('id,v\nx,a\n', 'drift', 'schema_conflict', { mode: 'append' });
    expect(t.status.error.diff.changed).toEqual([{ name: 'id', from: 'BIGINT', to: 'VARCHAR' }]);
  });
});
