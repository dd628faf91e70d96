/**
 * Plain files read plainly (issue 11): the misreads seen on real files, re-created, each through
 * the real upload path and compared cell by cell with csv-parse told the true dialect; CSV hints
 * that correct a guess; and no local path or engine text in any status.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { parse } from 'csv-parse/sync';
import { freshBucket } from './helpers/s3.js';
import { upload, sqlTable } from './helpers/ingest.js';
import { callHttp } from './helpers/lambda.js';
import { compareTables, contractNames } from './helpers/corpus.js';
import { handler as presign } from '../functions/presign-upload.js';
import { handler as sqlFn } from '../functions/sql.js';
import { uploadError } from '../lib/ingest/failure.js';
import { redact } from '../lib/redact.js';

beforeAll(async () => {
  await freshBucket('fid');
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The table csv-parse makes of the text with the true dialect (a header row unless told otherwise). */
function truthOf(text: string, o: { delimiter?: string; header?: boolean; skip?: number } = {}) {
  const recs = parse(text, { delimiter: o.delimiter ?? ',', from_line: (o.skip ?? 0) + 1, relax_column_count: false, trim: false, skip_empty_lines: true }) as string[][];
  const header = o.header ?? true;
  return { names: contractNames(header ? recs[0]! : null, recs[0]!.length), rows: header ? recs.slice(1) : recs };
}

async function loadsExactly(name: string, text: string, truth: ReturnType<typeof truthOf>, csv?: Record<string, unknown>, extra: Json = {}) {
  const r = await upload(text, { name, ...(csv ? { csv } : {}), ...extra });
  expect(r.status.error ?? null).toBeNull();
  expect(r.status.state).toBe('ready');
  const got = await sqlTable(name);
  expect(compareTables(truth, got)).toMatchObject({ exact: true });
  return { status: r.status as Json, got };
}

function pad(n: number) {
  return String(n).padStart(2, '0');
}

describe('the misreads seen on real files', () => {
  it('1. clock times are values, not a reason to split on ":"', async () => {
    let text = 'time,count\n';
    for (let i = 0; i < 955; i++) {
      const d = new Date(Date.UTC(2015, 0, 1, 1) + i * 3600e3);
      text += `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:00:00,${(i * 7) % 13}\n`;
    }
    const { status, got } = await loadsExactly('clock', text, truthOf(text));
    expect(status.report.detected).toMatchObject({ delimiter: ',', header: true, skip_lines: 0 });
    expect(got.columns).toEqual([
      { name: 'time', type: 'VARCHAR' },
      { name: 'count', type: 'BIGINT' },
    ]);
  });

  it('2. a year as a column name over decimals is a header', async () => {
    let a = 'district,2021\n';
    for (let i = 1; i <= 53; i++) a += `AK-${i},${(-14.62028 + i * 0.73117).toFixed(5)}\n`;
    const { got } = await loadsExactly('districts', a, truthOf(a));
    expect(got.columns.map((c) => c.name)).toEqual(['district', '2021']);
    const b = 'state,2022\nAlabama,-29.17974\nAlaska,12.50001\nArizona,-3.25010\nArkansas,7.00210\n';
    const s = await loadsExactly('states', b, truthOf(b));
    expect(s.got.columns).toEqual([
      { name: 'state', type: 'VARCHAR' },
      { name: '2022', type: 'DOUBLE' },
    ]);
    expect(s.status.report.confidence).toMatchObject({ header: 'detected', header_evidence: { column: 2, value: '2022' } });
  });

  it('3a. a matrix whose quoted header starts with an empty name', async () => {
    const names = ['SMITH', 'JOHNSON', 'WILLIAMS', 'BROWN', 'JONES'];
    let text = `"","FirstName",${names.map((n) => `"${n}"`).join(',')}\n`;
    for (let i = 0; i < 40; i++) text += `"${70 + i}","${['Michael', 'James', 'John'][i % 3]}",${names.map((_, j) => (30915.3639758192 / (i + j + 1)).toPrecision(15)).join(',')}\n`;
    const { got, status } = await loadsExactly('matrix', text, truthOf(text));
    expect(got.columns.map((c) => c.name)).toEqual(['column_1', 'FirstName', ...names]);
    expect(status.report.transformations).toContainEqual({ kind: 'renamed_columns', columns: 1 });
  });

  it('3b. CR-only line endings, 23 columns, the header repeated inside the data', async () => {
    const header = ['SHOW', 'SEASON', 'CONTESTANT', ...Array.from({ length: 20 }, (_, i) => `ELIMINATION-${i + 1}`)];
    const lines = [header.join(',')];
    for (let season = 1; season <= 3; season++) {
      if (season > 1) lines.push(header.join(','));
      for (let c = 0; c < 25; c++) lines.push(['Bachelorette', String(season), `${season}_${c}`, ...Array.from({ length: 20 }, (_, i) => (i === c % 20 ? 'E' : i < c % 20 ? '' : c % 3 ? 'R1' : ''))].join(','));
    }
    const text = lines.join('\r') + '\r';
    const { status, got } = await loadsExactly('show', text, truthOf(text));
    expect(got.columns[0]!.name).toBe('SHOW');
    expect(got.rows).toHaveLength(77);
    expect(status.report.dialect).toMatchObject({ line_ending: 'CR', header: true });
  });

  it('4. trailing spaces inside values and names are kept, byte for byte', async () => {
    const text = 'id,religion,comment ,score\n1,Episcopalian ,"A hybrid of many of the above.  ",3\n2,Catholic,"ok",4\n3,None,plain ,5\n4, Baptist,"x",6\n';
    const { got, status } = await loadsExactly('spaces', text, truthOf(text));
    expect(got.columns.map((c) => c.name)).toEqual(['id', 'religion', 'comment ', 'score']);
    expect(got.rows[0]![1]).toBe('Episcopalian ');
    expect(got.rows[0]![2]).toBe('A hybrid of many of the above.  ');
    expect(got.rows[3]![1]).toBe(' Baptist');
    expect(status.report.transformations).toEqual([]);
  });

  it('4b. padding outside quotes is trimmed, and the report says how many cells', async () => {
    const text = '"name" , "note"\n"a" , "x y "\n"b" , " z"\n"c" , "w"\n';
    const r = await upload(text, { name: 'outside' });
    expect(r.status.state).toBe('ready');
    const got = await sqlTable('outside');
    expect(got.columns.map((c) => c.name)).toEqual(['name', 'note']);
    expect(got.rows).toEqual([
      ['a', 'x y '],
      ['b', ' z'],
      ['c', 'w'],
    ]);
    expect(r.status.report.transformations).toContainEqual({ kind: 'trimmed_padding', cells: 6 });
  });

  it('5. ".097", "5." and trailing fractional zeros are DOUBLE, and avg() works', async () => {
    const text = 'area,rate,a,b\nX,.097,0.155100000000000,0.021300000000000\nY,.1,0.2,5.\nZ,-.5,1.0,2\n';
    const { got } = await loadsExactly('rates', text, truthOf(text));
    expect(got.columns.map((c) => c.type)).toEqual(['VARCHAR', 'DOUBLE', 'DOUBLE', 'DOUBLE']);
    const r = await callHttp(sqlFn, { method: 'POST', path: '/sql', body: { sql: 'SELECT avg(rate) AS r, sum(b) AS b FROM rates' } });
    expect(r.status).toBe(200);
    expect(r.json.rows[0][0]).toBeCloseTo((0.097 + 0.1 - 0.5) / 3, 12);
    expect(r.json.rows[0][1]).toBeCloseTo(0.0213 + 5 + 2, 12);
  });

  it('6. a 2.4 MB header line of 4,000 long names loads, and no status carries a local path', async () => {
    const names = Array.from({ length: 4000 }, (_, i) => `survey_question_${i}_${'x'.repeat(580)}`);
    let text = names.join(',') + '\n';
    for (let r = 0; r < 3; r++) text += names.map((_, i) => String(i * 10 + r)).join(',') + '\n';
    expect(text.indexOf('\n')).toBeGreaterThan(2_300_000);
    const r = await upload(text, { name: 'wide_names' });
    expect(r.status.error ?? null).toBeNull();
    expect(r.status.state).toBe('ready');
    expect(r.status.dataset.schema).toHaveLength(4000);
    expect(r.status.dataset.schema[3999].name).toBe(names[3999]);
    const status = JSON.stringify(r.status);
    expect(status).not.toMatch(/\/tmp\/|\/ingest-|data\.parquet|early\.parquet|<local path>/);
  });
});

describe('no local path or engine text in a status or a log line', () => {
  it('an unexpected error becomes "internal" with a fixed message; a domain error keeps its code', () => {
    const engine = new Error('IO Error: Could not write file "/tmp/lakehouse/w1/ingest-AbC123/data.parquet": No space left on device');
    const e = uploadError(engine);
    expect(e.code).toBe('internal');
    expect(JSON.stringify(e)).not.toMatch(/tmp|ingest-|parquet|IO Error/);
  });
  it('log and error redaction replaces local paths but not URLs or keys', () => {
    const s = redact('failed on /tmp/lakehouse/w1/ingest-x/early.parquet and /work/main/.lakehouse/s3 for uploads/a/b.csv at http://127.0.0.1:4569/lakehouse/x');
    expect(s).not.toMatch(/\/tmp|\/work/);
    expect(s).toContain('uploads/a/b.csv');
    expect(s).toContain('http://127.0.0.1:4569/lakehouse/x');
  });
});

describe('CSV hints correct a guess', () => {
  it('validates each field: 400 invalid_csv_options', async () => {
    const bad: unknown[] = [
      'x',
      [],
      { delimiter: ';;' },
      { delimiter: 'a' },
      { delimiter: '\n' },
      { delimiter: 'é' },
      { quote: 5 },
      { header: 'yes' },
      { skip_lines: -1 },
      { skip_lines: 1001 },
      { skip_lines: 1.5 },
      { encoding: 'ebcdic' },
      { delimiter: '"', quote: '"' },
      { escape: '\\', quote: '' },
      { colour: 'red' },
    ];
    for (const csv of bad) {
      const r = await callHttp(presign, { method: 'POST', path: '/uploads', body: { name: 'h', csv } });
      expect({ csv, status: r.status, code: r.json.error?.code }).toEqual({ csv, status: 400, code: 'invalid_csv_options' });
      expect(r.json.error.message).toMatch(/csv/);
    }
  });

  it('a replace with the same data and a corrected dialect fixes a wrong load', async () => {
    // all-text columns: detection assumes a header, which this file does not have
    const text = 'red,apple\ngreen,pear\nyellow,banana\n';
    const first = await upload(text, { name: 'fruit' });
    expect(first.status.report.confidence.header).toBe('assumed');
    expect((await sqlTable('fruit')).rows).toHaveLength(2);
    // the corrected schema differs from the wrong one: without schema_change it is a conflict
    const refused = await upload(text, { name: 'fruit', csv: { header: false } });
    expect(refused.status.error.code).toBe('schema_conflict');
    const fixed = await loadsExactly('fruit', text, truthOf(text, { header: false }), { header: false }, { schema_change: 'overwrite' });
    expect(fixed.status.report.detected).toMatchObject({ header: false, from_hints: ['header'] });
    expect(fixed.status.report.schema_changes).toEqual([
      { change: 'added', name: 'column_1', to: 'VARCHAR' },
      { change: 'added', name: 'column_2', to: 'VARCHAR' },
      { change: 'removed', name: 'red', from: 'VARCHAR' },
      { change: 'removed', name: 'apple', from: 'VARCHAR' },
    ]);
    expect(fixed.status.dataset.version).toBe(2);
  });

  it('delimiter, quote, skip_lines and encoding override detection', async () => {
    const text = 'Exported by X\nmore notes; with; semicolons\nk|v\n\'a|b\'|1\nc|2\n';
    const { status } = await loadsExactly('hinted', text, { names: ['k', 'v'], rows: [['a|b', '1'], ['c', '2']] }, { delimiter: '|', quote: "'", skip_lines: 2 });
    expect(status.report.detected).toMatchObject({ delimiter: '|', quote: "'", skip_lines: 2, from_hints: ['delimiter', 'quote', 'skip_lines'] });
    const latin = Buffer.from('name;city\nJos\xe9;Z\xfcrich\n', 'latin1');
    const r = await upload(latin, { name: 'latin', csv: { encoding: 'windows-1252', delimiter: ';' } });
    expect(r.status.state).toBe('ready');
    expect((await sqlTable('latin')).rows).toEqual([['José', 'Zürich']]);
    expect(r.status.report.transformations).toContainEqual({ kind: 're-encoded', from: 'windows-1252', to: 'utf-8' });
  });
});
