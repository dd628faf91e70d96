/**
 * POST /sql: validate → sandbox checks → refresh and materialise the referenced datasets →
 * prepare + bind (never interpolate) → stream rows that DuckDB has already encoded → inline body,
 * or the whole result spilled to results/<query_id>.<ext> with a presigned URL.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { StatementType, DuckDBTypeId, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { config } from '../config.js';
import { LakehouseError, badRequest, timeout as timeoutError } from '../errors.js';
import { log } from '../log.js';
import { redact } from '../redact.js';
import { presignGet, uploadFile } from '../storage/objects.js';
import { keys } from '../storage/keys.js';
import { sqlIdent, sqlString } from '../duckdb.js';
import { getEngine, type Engine } from './engine.js';
import { inspectSql, resolveTables, duckMessage, forbiddenStatement, type SqlShape } from './sandbox.js';
import { csvExpr, csvHeader, jsonExpr } from './encode.js';

export type Format = 'json' | 'csv' | 'ndjson' | 'arrow';

export interface SqlRequest {
  sql: string;
  params: DuckDBValue[] | Record<string, DuckDBValue> | undefined;
  limit: number;
  format: Format;
}

export interface SqlResult {
  status: number;
  json?: unknown;
  /** Pre-serialised JSON body (built from DuckDB's row texts). */
  jsonText?: string;
  raw?: { body: string | Buffer; contentType: string };
  headers: Record<string, string>;
}

const MAX_SQL_CHARS = 100_000;
const MAX_LIMIT = 100_000_000;

const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
  arrow: 'application/vnd.apache.arrow.stream',
};

export function formatFromAccept(accept: string | undefined): Format | undefined {
  if (!accept) return undefined;
  const a = accept.toLowerCase();
  if (a.includes('application/vnd.apache.arrow.stream') || a.includes('application/vnd.apache.arrow')) return 'arrow';
  if (a.includes('application/x-ndjson') || a.includes('application/ndjson')) return 'ndjson';
  if (a.includes('text/csv')) return 'csv';
  return undefined;
}

function paramValue(v: unknown, where: string): DuckDBValue {
  if (v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw badRequest('invalid_params', `${where} must be a finite number.`);
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  throw badRequest('invalid_params', `${where} must be a string, number, boolean or null.`);
}

export function parseSqlRequest(body: unknown, accept?: string): SqlRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('invalid_request', 'The request body must be a JSON object with "sql".');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.sql !== 'string' || b.sql.trim().length === 0) throw badRequest('invalid_request', '"sql" must be a non-empty string.');
  if (b.sql.length > MAX_SQL_CHARS) throw badRequest('invalid_request', `"sql" is longer than ${MAX_SQL_CHARS} characters.`);
  if (b.sql.includes('\0')) throw badRequest('invalid_request', '"sql" contains a NUL character.');
  let params: SqlRequest['params'];
  if (Array.isArray(b.params)) {
    if (b.params.length > 1000) throw badRequest('invalid_params', 'At most 1000 parameters.');
    params = b.params.map((v, i) => paramValue(v, `params[${i}]`));
  } else if (b.params && typeof b.params === 'object') {
    params = {};
    for (const [k, v] of Object.entries(b.params)) params[k] = paramValue(v, `params.${k}`);
  } else if (b.params !== undefined && b.params !== null) {
    throw badRequest('invalid_params', '"params" must be an array or an object.');
  }
  let limit = config().sqlMaxRows;
  if (b.limit !== undefined && b.limit !== null) {
    if (typeof b.limit !== 'number' || !Number.isSafeInteger(b.limit) || b.limit < 0 || b.limit > MAX_LIMIT) {
      throw badRequest('invalid_request', `"limit" must be an integer from 0 to ${MAX_LIMIT}.`);
    }
    limit = b.limit;
  }
  let format: Format = formatFromAccept(accept) ?? 'json';
  if (b.format !== undefined && b.format !== null) {
    if (b.format !== 'json' && b.format !== 'csv' && b.format !== 'ndjson' && b.format !== 'arrow') {
      throw badRequest('invalid_request', '"format" must be one of json, csv, ndjson, arrow.');
    }
    format = b.format;
  }
  return { sql: b.sql, params, limit, format };
}

const INSPECTED = new Map<string, SqlShape>();
const INSPECTED_MAX = 512;

/** The sandbox inspection depends only on the text: cached per statement (LRU). */
async function inspectCached(con: DuckDBConnection, sql: string, clean: (s: string) => string): Promise<SqlShape> {
  const hit = INSPECTED.get(sql);
  if (hit) {
    INSPECTED.delete(sql);
    INSPECTED.set(sql, hit);
    return hit;
  }
  const shape = await inspectSql(con, sql, clean);
  INSPECTED.set(sql, shape);
  if (INSPECTED.size > INSPECTED_MAX) INSPECTED.delete(INSPECTED.keys().next().value!);
  return shape;
}

/** Maps a DuckDB error to the API's error, with local paths and credentials scrubbed. */
export function mapDuckError(e: unknown, clean: (s: string) => string, timedOut: boolean): LakehouseError {
  if (e instanceof LakehouseError) return e;
  const msg = clean(duckMessage(e));
  if (timedOut || /^INTERRUPT Error/i.test(msg)) {
    return timeoutError(`The query ran longer than ${config().sqlTimeoutMs} ms and was stopped.`, { timeout_ms: config().sqlTimeoutMs });
  }
  if (/^Permission Error/i.test(msg)) return forbiddenStatement(`Not allowed: ${msg.replace(/^Permission Error:\s*/i, '')}`);
  if (/^Out of Memory Error/i.test(msg)) return new LakehouseError('out_of_memory', 'The query needs more memory than this function has.', 503);
  if (/^(Parser|Binder|Catalog|Conversion|Invalid Input|Out of Range|Not implemented|Constraint|Syntax|Invalid type|Invalid|Dependency|Sequence|Transaction|Mismatch Type) Error/i.test(msg)) {
    return badRequest('sql_error', msg);
  }
  log.error('sql: unexpected engine error', { detail: msg });
  return new LakehouseError('internal', 'The query failed inside the engine.', 500);
}

function cleaner(engine: Engine): (s: string) => string {
  const paths = engine.privatePaths().filter(Boolean).sort((a, b) => b.length - a.length);
  return (s: string) => {
    let out = s;
    for (const p of paths) out = out.split(p).join('<local>');
    out = out.replace(/\/[^\s'"]*\.parquet/g, '<file>');
    return redact(out);
  };
}

interface Column {
  name: string;
  type: DuckDBType;
}

function bindAll(p: DuckDBPreparedStatement, params: SqlRequest['params']): void {
  const expected = p.parameterCount;
  const given = params === undefined ? 0 : Array.isArray(params) ? params.length : Object.keys(params).length;
  if (expected !== given) {
    throw badRequest('invalid_params', `The query has ${expected} parameter(s); ${given} given.`, { expected, given });
  }
  if (params !== undefined && given > 0) p.bind(params);
}

export async function runSql(req: SqlRequest): Promise<SqlResult> {
  const started = Date.now();
  const cfg = config();
  const queryId = uuidv7();
  const engine = await getEngine();
  const clean = cleaner(engine);
  const con = await engine.lease();
  let timedOut = false;
  let running = true;
  const timer = setTimeout(() => {
    timedOut = true;
    if (running) con.interrupt();
  }, cfg.sqlTimeoutMs);
  let pins: string[] = [];
  try {
    const shape = await inspectCached(con, req.sql, clean);
    const candidates = [
      ...new Set(
        shape.tables
          .filter((t) => !t.catalog && (!t.schema || t.schema.toLowerCase() === 'main'))
          .map((t) => t.name.toLowerCase())
          .filter((n) => !shape.ctes.has(n)),
      ),
    ];
    const userSql = req.sql.replace(/[\s;]+$/, '');
    let result: SqlResult | undefined;
    if (candidates.every((n) => engine.isDataset(n))) {
      // Warm path: every dataset is known. The freshness probe (one HEAD each) runs while the
      // query executes on the current version; if a newer version turns out to exist, the result
      // is discarded and the query runs again on it — so the answer is never staler than the probe.
      const needed = resolveTables(shape, (n) => engine.isDataset(n));
      if (!shape.schemaOnly) pins = (await engine.materialize(needed)).pins;
      const fresh = engine.refresh(candidates);
      fresh.catch(() => undefined);
      const attempt = await execute(engine, con, userSql, needed, req, queryId, started).then(
        (r) => ({ r }),
        (error: unknown) => ({ error }),
      );
      if (!(await fresh)) {
        if ('error' in attempt) throw attempt.error;
        result = attempt.r;
      } else {
        engine.release(pins);
        pins = [];
      }
    } else {
      await engine.refresh(candidates);
    }
    if (!result) {
      const needed = resolveTables(shape, (n) => engine.isDataset(n));
      if (timedOut) throw timeoutError(`The query ran longer than ${cfg.sqlTimeoutMs} ms and was stopped.`);
      if (!shape.schemaOnly) pins = (await engine.materialize(needed)).pins;
      result = await execute(engine, con, userSql, needed, req, queryId, started);
    }
    log.debug('sql', { query_id: queryId, format: req.format, ms: Date.now() - started, row_count: result.headers['x-lakehouse-row-count'] });
    return result;
  } catch (e) {
    throw mapDuckError(e, clean, timedOut);
  } finally {
    running = false;
    clearTimeout(timer);
    engine.release(pins);
    engine.giveBack(con);
  }
}

interface Compiled {
  stmt: DuckDBPreparedStatement;
  columns: Column[];
}

function paramSignature(params: SqlRequest['params']): string {
  if (params === undefined) return '';
  const t = (v: DuckDBValue) => (v === null ? 'n' : typeof v === 'bigint' ? 'i' : typeof v === 'number' ? 'd' : typeof v === 'boolean' ? 'b' : 's');
  return Array.isArray(params) ? params.map(t).join('') : Object.entries(params).map(([k, v]) => `${k}:${t(v)}`).join(',');
}

/**
 * Prepares the statement (checking its type) and its row-encoding wrapper, then streams its rows
 * in the format asked. The compiled wrapper is cached on the pooled connection, keyed by the text,
 * the format, the limit, the parameter types and the definitions of the views it reads.
 */
async function execute(
  engine: Engine,
  con: DuckDBConnection,
  userSql: string,
  datasets: string[],
  req: SqlRequest,
  queryId: string,
  started: number,
): Promise<SqlResult> {
  const limit = req.limit;
  const compile = async (): Promise<Compiled & { from: string }> => {
    const prepared = await con.prepare(userSql);
    if (prepared.statementType !== StatementType.SELECT) {
      throw forbiddenStatement('Only read-only queries are allowed.');
    }
    bindAll(prepared, req.params);
    const columns = await resultColumns(con, prepared, userSql, req.params);
    prepared.destroySync();
    const aliases = columns.map((_, i) => sqlIdent(`c${i + 1}`)).join(', ');
    const from = `FROM (\n${userSql}\n) AS __q(${aliases})`;
    const ref = (i: number) => `__q.${sqlIdent(`c${i + 1}`)}`;
    if (req.format === 'arrow') return { stmt: undefined as never, columns, from };
    let rowExpr: string;
    if (req.format === 'json') rowExpr = `json_array(${columns.map((c, i) => jsonExpr(ref(i), c.type)).join(', ')})::VARCHAR`;
    else if (req.format === 'ndjson')
      rowExpr = `json_object(${columns.map((c, i) => `${sqlString(c.name)}, ${jsonExpr(ref(i), c.type)}`).join(', ')})::VARCHAR`;
    else rowExpr = `concat_ws(',', ${columns.map((c, i) => csvExpr(ref(i), c.type)).join(', ')})`;
    return { stmt: await con.prepare(`SELECT ${rowExpr} ${from} LIMIT ${limit + 1}`), columns, from };
  };
  if (req.format === 'arrow') {
    const c = await compile();
    return arrowResult(engine, con, `SELECT * ${c.from} LIMIT ${limit + 1}`, req, c.columns, queryId, started);
  }
  const cache = engine.cacheFor<Compiled>(con);
  const key = `${req.format}|${limit}|${engine.viewEpochs(datasets)}|${paramSignature(req.params)}|${userSql}`;
  let compiled = cache.get(key);
  if (compiled) {
    cache.delete(key);
    compiled.stmt.clearBindings();
  } else {
    compiled = await compile();
  }
  cache.set(key, compiled);
  if (cache.size > 64) {
    const oldest = cache.keys().next().value!;
    cache.get(oldest)?.stmt.destroySync();
    cache.delete(oldest);
  }
  bindAll(compiled.stmt, req.params);
  return textResult(compiled.stmt, req, compiled.columns, queryId, started);
}

/** Column names and types of the result; a LIMIT 0 run when parameters leave types open. */
async function resultColumns(
  con: DuckDBConnection,
  prepared: DuckDBPreparedStatement,
  userSql: string,
  params: SqlRequest['params'],
): Promise<Column[]> {
  const n = prepared.columnCount;
  const ids = Array.from({ length: n }, (_, i) => prepared.columnTypeId(i));
  if (ids.every((id) => id !== DuckDBTypeId.INVALID)) {
    return ids.map((_, i) => ({ name: prepared.columnName(i), type: prepared.columnType(i) }));
  }
  const probe = await con.prepare(`SELECT * FROM (\n${userSql}\n) AS __q LIMIT 0`);
  bindAll(probe, params);
  const r = await probe.run();
  const names = r.columnNames();
  const types = r.columnTypes();
  return names.map((name, i) => ({ name, type: types[i]! }));
}

function metaHeaders(rowCount: number, truncated: boolean, queryId: string, elapsed: number, resultUrl?: string) {
  return {
    'x-lakehouse-row-count': String(rowCount),
    'x-lakehouse-truncated': String(truncated),
    'x-lakehouse-query-id': queryId,
    'x-lakehouse-elapsed-ms': String(elapsed),
    ...(resultUrl ? { 'x-lakehouse-result-url': resultUrl } : {}),
  };
}

class Spill {
  readonly file: string;
  private fd: number;
  constructor(dir: string, name: string) {
    this.file = path.join(dir, name);
    this.fd = fs.openSync(this.file, 'w');
  }
  write(s: string | Buffer): void {
    fs.writeSync(this.fd, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

async function publish(spill: Spill, format: Format, queryId: string): Promise<string> {
  const ext = format === 'ndjson' ? 'ndjson' : format;
  const key = keys.result(queryId, ext);
  await uploadFile(key, spill.file, CONTENT_TYPES[format]);
  fs.rmSync(spill.file, { force: true });
  return presignGet(key, config().resultUrlTtlSeconds, `${queryId}.${ext}`);
}

async function textResult(stmt: DuckDBPreparedStatement, req: SqlRequest, columns: Column[], queryId: string, started: number): Promise<SqlResult> {
  const cfg = config();
  const engine = await getEngine();
  const cap = Math.max(1024, cfg.sqlMaxInlineBytes - 64 * 1024);
  const t0 = Date.now();
  const res = await stmt.stream();
  const inline: string[] = [];
  let inlineBytes = 0;
  let total = 0;
  let truncated = false;
  let spill: Spill | undefined;
  const sep = req.format === 'json' ? ',' : '\n';
  const colsJson = JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type.toString() })));
  const startSpill = () => {
    spill = new Spill(engine.scratchDir, `${queryId}.${req.format}`);
    if (req.format === 'json') spill.write(`{"query_id":${JSON.stringify(queryId)},"columns":${colsJson},"rows":[`);
    if (req.format === 'csv') spill.write(csvHeader(columns.map((c) => c.name)) + '\n');
    if (inline.length) spill.write(inline.join(sep) + (req.format === 'json' ? '' : '\n'));
  };
  for (;;) {
    const chunk = await res.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    let rows = chunk.getColumnValues(0) as string[];
    if (total + rows.length > req.limit) {
      truncated = true;
      rows = rows.slice(0, req.limit - total);
    }
    const wasFirst = total === 0;
    total += rows.length;
    if (rows.length) {
      if (spill) {
        spill.write((wasFirst || req.format !== 'json' ? '' : sep) + rows.join(sep) + (req.format === 'json' ? '' : '\n'));
      } else {
        const text = rows.join(sep);
        const bytes = Buffer.byteLength(text) + 1;
        if (inlineBytes + bytes > cap) {
          startSpill();
          spill!.write((wasFirst || req.format !== 'json' ? '' : sep) + text + (req.format === 'json' ? '' : '\n'));
          // keep the rows of this chunk that still fit inline
          for (const r of rows) {
            const b = Buffer.byteLength(r) + 1;
            if (inlineBytes + b > cap) break;
            inline.push(r);
            inlineBytes += b;
          }
        } else {
          for (const r of rows) inline.push(r);
          inlineBytes += bytes;
        }
      }
    }
    if (truncated) break;
  }
  let resultUrl: string | undefined;
  const execMs = Date.now() - t0;
  let uploadMs = 0;
  if (spill) {
    if (req.format === 'json') spill.write(`],"row_count":${total},"truncated":${truncated}}`);
    spill.close();
    const t1 = Date.now();
    resultUrl = await publish(spill, req.format, queryId);
    uploadMs = Date.now() - t1;
  }
  const elapsed = Date.now() - started;
  const headers = { ...metaHeaders(total, truncated, queryId, elapsed, resultUrl), 'server-timing': serverTiming(execMs, uploadMs) };
  if (req.format === 'json') {
    const body =
      `{"columns":${colsJson},"rows":[${inline.join(',')}],"row_count":${total},"truncated":${truncated},` +
      `"query_id":${JSON.stringify(queryId)},"elapsed_ms":${elapsed}` +
      (resultUrl ? `,"result_url":${JSON.stringify(resultUrl)},"rows_inline":${inline.length}` : '') +
      '}';
    return { status: 200, jsonText: body, headers };
  }
  const body =
    req.format === 'csv'
      ? csvHeader(columns.map((c) => c.name)) + '\n' + inline.map((r) => r + '\n').join('')
      : inline.map((r) => r + '\n').join('');
  return { status: 200, raw: { body, contentType: CONTENT_TYPES[req.format] }, headers };
}

/**
 * Arrow IPC: DuckDB writes the result to a Parquet file in the engine's scratch directory, which is
 * turned into an Arrow IPC stream one row group at a time (bounded memory), straight into a spill
 * file when it is too big to return inline.
 */
async function arrowResult(
  engine: Engine,
  con: DuckDBConnection,
  selectSql: string,
  req: SqlRequest,
  columns: Column[],
  queryId: string,
  started: number,
): Promise<SqlResult> {
  const cfg = config();
  const file = path.join(engine.scratchDir, `${queryId}.parquet`);
  const ipcFile = path.join(engine.scratchDir, `${queryId}.arrow`);
  try {
    const t0 = Date.now();
    const stmt = await con.prepare(`COPY (${selectSql}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)`);
    bindAll(stmt, req.params);
    const written = Number((await stmt.run()).rowsChanged);
    const truncated = written > req.limit;
    const total = truncated ? req.limit : written;
    const [{ readParquet }, arrow, { parquetMetadata }] = await Promise.all([import('parquet-wasm'), import('apache-arrow'), import('hyparquet')]);
    const bytes = fs.readFileSync(file);
    const groups = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).row_groups.length;
    // binary bodies travel base64-encoded through API Gateway: keep under the cap after encoding
    const cap = Math.floor((cfg.sqlMaxInlineBytes * 3) / 4) - 64 * 1024;
    let schema: InstanceType<typeof arrow.Schema> | undefined;
    const rename = (s: InstanceType<typeof arrow.Schema>) =>
      new arrow.Schema(s.fields.map((f, i) => new arrow.Field(columns[i]?.name ?? f.name, f.type, f.nullable, f.metadata)), s.metadata);
    const writer = new arrow.RecordBatchStreamWriter();
    const sink = fs.createWriteStream(ipcFile);
    const piping = pipeline(writer.toNodeStream(), sink);
    piping.catch(() => undefined);
    const inline: Array<InstanceType<typeof arrow.RecordBatch>> = [];
    let inlineFull = false;
    let remaining = total;
    for (let g = 0; g < groups && remaining > 0; g++) {
      const t = arrow.tableFromIPC(readParquet(bytes, { rowGroups: [g] }).intoIPCStream());
      schema ??= rename(t.schema);
      for (const b of t.batches) {
        if (remaining <= 0) break;
        let batch = new arrow.RecordBatch(schema, b.data);
        if (batch.numRows > remaining) batch = batch.slice(0, remaining);
        remaining -= batch.numRows;
        writer.write(batch);
        if (!inlineFull) inline.push(batch);
      }
      // let the file stream drain what the writer serialised (memory stays one row group)
      await new Promise((r) => setImmediate(r));
      if (sink.bytesWritten + sink.writableLength > cap * 0.9) inlineFull = true;
    }
    if (!schema) schema = rename(arrow.tableFromIPC(readParquet(bytes).intoIPCStream()).schema);
    if (total === 0) writer.reset(undefined, schema);
    writer.finish();
    await piping;
    const ipcBytes = fs.statSync(ipcFile).size;
    const exec = Date.now() - t0;
    let resultUrl: string | undefined;
    let body: Buffer;
    let upload = 0;
    if (ipcBytes > cap) {
      const t1 = Date.now();
      const spill = { file: ipcFile } as Spill;
      resultUrl = await publish(spill, 'arrow', queryId);
      upload = Date.now() - t1;
      // the first rows inline, as many as fit
      const all = new arrow.Table(inline);
      const perRow = ipcBytes / Math.max(1, total);
      const fit = Math.min(all.numRows, Math.max(0, Math.floor((cap * 0.9) / perRow)));
      body = Buffer.from(arrow.tableToIPC(all.slice(0, fit), 'stream'));
    } else {
      body = fs.readFileSync(ipcFile);
    }
    return {
      status: 200,
      raw: { body, contentType: CONTENT_TYPES.arrow },
      headers: { ...metaHeaders(total, truncated, queryId, Date.now() - started, resultUrl), 'server-timing': serverTiming(exec, upload) },
    };
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(ipcFile, { force: true });
  }
}

/** Server-Timing: time to build the result, and to upload it when it spilled. */
function serverTiming(execMs: number, uploadMs: number): string {
  return `exec;dur=${execMs}` + (uploadMs ? `, upload;dur=${uploadMs}` : '');
}
