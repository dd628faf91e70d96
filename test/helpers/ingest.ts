/**
 * The real upload path, driven through the handlers: POST /uploads → PUT to the presigned URL
 * (a real HTTP PUT to the embedded S3 server) → the S3 event AWS would send → ingest handler →
 * GET /uploads/{id}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { handler as presign } from '../../functions/presign-upload.js';
import { handler as status } from '../../functions/upload-status.js';
import { handler as ingest } from '../../functions/ingest.js';
import { callHttp, s3Event, lambdaContext } from './lambda.js';
import { downloadToFile } from '../../lib/storage/objects.js';
import { readHead } from '../../lib/catalog/store.js';

export interface UploadOptions {
  name: string;
  mode?: 'replace' | 'append';
  filename?: string;
  bad_rows?: 'fail' | 'quarantine';
  sendSize?: boolean;
  /** CSV hints (docs/api.md). */
  csv?: Record<string, unknown>;
  schema_change?: 'fail' | 'evolve' | 'overwrite';
}

export async function presignAndPut(content: Buffer | string, opts: UploadOptions) {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const p = await callHttp(presign, {
    method: 'POST',
    path: '/uploads',
    body: {
      name: opts.name,
      ...(opts.mode ? { mode: opts.mode } : {}),
      ...(opts.filename ? { filename: opts.filename } : {}),
      ...(opts.bad_rows ? { bad_rows: opts.bad_rows } : {}),
      ...(opts.csv ? { csv: opts.csv } : {}),
      ...(opts.schema_change ? { schema_change: opts.schema_change } : {}),
      ...(opts.sendSize === false ? {} : { size: body.length }),
    },
  });
  if (p.status !== 201) throw new Error(`presign failed: ${p.status} ${p.text}`);
  const put = await fetch(p.json.url, { method: 'PUT', body, headers: p.json.headers });
  if (!put.ok) throw new Error(`PUT failed: ${put.status} ${await put.text()}`);
  return { presign: p.json, size: body.length, etag: (put.headers.get('etag') ?? '').replace(/"/g, '') };
}

export async function deliver(bucket: string, key: string, size: number, etag?: string) {
  return ingest(s3Event(bucket, key, size, etag), lambdaContext('lakehouse-dev-ingest'));
}

export async function getStatus(uploadId: string) {
  const r = await callHttp(status, { method: 'GET', path: `/uploads/${uploadId}`, pathParameters: { id: uploadId } });
  return r;
}

export async function upload(content: Buffer | string, opts: UploadOptions) {
  const bucket = process.env.LAKEHOUSE_BUCKET!;
  const { presign: p, size, etag } = await presignAndPut(content, opts);
  await deliver(bucket, p.key, size, etag);
  const s = await getStatus(p.upload_id);
  return { presign: p, status: s.json, statusCode: s.status };
}

let duck: Promise<DuckDBInstance> | undefined;
export async function duckdb() {
  duck ??= DuckDBInstance.create(':memory:');
  return (await duck).connect();
}

/** Rows of a dataset's current objects, read back from S3 with DuckDB, as JSON-ish values. */
export async function datasetRows(name: string, orderBy?: string): Promise<{ columns: Array<{ name: string; type: string }>; rows: unknown[][] }> {
  const m = await readHead(name);
  if (!m) throw new Error(`no dataset ${name}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-'));
  const files: string[] = [];
  for (const [i, o] of m.objects.entries()) {
    const f = path.join(dir, `${i}.parquet`);
    await downloadToFile(o.key, f);
    files.push(f);
  }
  const con = await duckdb();
  try {
    if (files.length === 0) return { columns: m.schema, rows: [] };
    const r = await con.runAndReadAll(
      `SELECT * FROM read_parquet([${files.map((f) => `'${f}'`).join(',')}])${orderBy ? ` ORDER BY ${orderBy}` : ''}`,
    );
    const cols = r.columnNames().map((n, i) => ({ name: n, type: r.columnTypes()[i]!.toString() }));
    return { columns: cols, rows: r.getRowsJson() as unknown[][] };
  } finally {
    con.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The source CSV read by DuckDB with every column as text (the ground truth of cell text). */
export async function csvAllVarchar(content: Buffer | string, opts: { delim?: string; header?: boolean; quote?: string; escape?: string } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-'));
  const f = path.join(dir, 'src.csv');
  fs.writeFileSync(f, content);
  const con = await duckdb();
  try {
    const r = await con.runAndReadAll(
      `SELECT * FROM read_csv('${f}', all_varchar=true, header=${opts.header ?? true}, delim='${opts.delim ?? ','}', quote='${opts.quote ?? '"'}', escape='${opts.escape ?? '"'}', auto_detect=true, strict_mode=true, null_padding=false)`,
    );
    return r.getRowsJson() as Array<Array<string | null>>;
  } finally {
    con.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const isoTs = (v: string) => v.replace(' ', 'T').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');

/**
 * Asserts that every cell's text survived: typed cells compared numerically (numbers), as ISO
 * text (dates, timestamps) or case-insensitively (booleans); text compared exactly; empty cells
 * are NULL in typed columns and '' in VARCHAR columns.
 */
export function cellsSurvive(source: Array<Array<string | null>>, got: { columns: Array<{ type: string }>; rows: unknown[][] }): string[] {
  const problems: string[] = [];
  if (source.length !== got.rows.length) problems.push(`row count ${got.rows.length} != ${source.length}`);
  for (let i = 0; i < Math.min(source.length, got.rows.length); i++) {
    for (let j = 0; j < got.columns.length; j++) {
      const s = source[i]![j] ?? '';
      const v = got.rows[i]![j];
      const t = got.columns[j]!.type;
      let ok: boolean;
      if (t === 'VARCHAR') ok = v === s;
      else if (s === '') ok = v === null;
      else if (t === 'BIGINT') ok = String(v) === String(BigInt(s));
      else if (t === 'DOUBLE') ok = Number(v) === Number(s);
      else if (t === 'BOOLEAN') ok = String(v) === s.toLowerCase();
      else if (t === 'DATE') ok = v === s;
      else if (t.startsWith('TIMESTAMP')) ok = isoTs(String(v)) === isoTs(s);
      else ok = String(v) === s;
      if (!ok && problems.length < 10) problems.push(`row ${i} col ${j} (${t}): ${JSON.stringify(v)} vs source ${JSON.stringify(s)}`);
    }
  }
  return problems;
}

/** All rows of a dataset as /sql answers them (JSON), with the column names and types. */
export async function sqlTable(name: string): Promise<{ columns: Array<{ name: string; type: string }>; rows: unknown[][] }> {
  const { handler: sqlFn } = await import('../../functions/sql.js');
  const r = await callHttp(sqlFn, { method: 'POST', path: '/sql', body: { sql: `SELECT * FROM "${name}"`, limit: 1_000_000 } });
  if (r.status !== 200) throw new Error(`/sql ${r.status}: ${r.text}`);
  if (r.json.result_url) throw new Error('result spilled; use a smaller file');
  return { columns: r.json.columns, rows: r.json.rows };
}
