/** CSV → Parquet with DuckDB, reading with exactly the dialect and types ingest decided. */
import type { DuckDBInstance } from '@duckdb/node-api';
import { createInstance, sqlIdent, sqlString } from '../duckdb.js';
import { parquetFileStats, type ColumnStats } from '../catalog/stats.js';
import type { SchemaColumn } from '../catalog/manifest.js';
import type { Dialect } from './scan.js';
import { duckdbFieldIds } from '../iceberg/schema.js';

let instance: Promise<DuckDBInstance> | undefined;

function db(): Promise<DuckDBInstance> {
  instance ??= createInstance('ingest', { preserve_insertion_order: 'true' }).catch((e) => {
    instance = undefined;
    throw e;
  });
  return instance;
}

export interface ConvertSpec {
  input: string;
  output: string;
  dialect: Dialect;
  header: boolean;
  columns: Array<{ name: string; type: string }>;
  /** Longest record in bytes (DuckDB's max_line_size must cover it; its buffers scale with it). */
  maxRecordBytes?: number;
}

const MIN_LINE = 2 * 1024 * 1024;

/** Creates the container's DuckDB instance ahead of need (e.g. while the upload downloads). */
export function warmUp(): Promise<void> {
  return db().then(
    () => undefined,
    () => undefined,
  );
}

function readCsvSql(spec: ConvertSpec): string {
  const ch = (c: number) => (c < 0 ? "''" : sqlString(String.fromCharCode(c)));
  const cols = spec.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
  const text = spec.columns.filter((c) => c.type === 'VARCHAR').map((c) => sqlString(c.name));
  return (
    `read_csv(${sqlString(spec.input)}, delim=${ch(spec.dialect.delimiter)}, quote=${ch(spec.dialect.quote)}, ` +
    `escape=${ch(spec.dialect.escape)}, header=${spec.header}, auto_detect=false, strict_mode=true, ` +
    `null_padding=false, ${lineSizes(spec.maxRecordBytes)}, columns={${cols}}` +
    (text.length ? `, force_not_null=[${text.join(', ')}]` : '') +
    ')'
  );
}

/** max_line_size just above the longest record (a huge value costs parallelism: DuckDB's buffers scale with it). */
function lineSizes(maxRecord = 0): string {
  const line = Math.max(MIN_LINE, maxRecord + 1024);
  return `max_line_size=${line}, buffer_size=${Math.max(32 * 1024 * 1024, 4 * line)}`;
}

export interface Conversion {
  /** Rows written. */
  done: Promise<number>;
  /** Stops the conversion (its promise then rejects). */
  cancel(): void;
}

/**
 * Starts a conversion on its own connection and returns once DuckDB has the statement: the work
 * runs on DuckDB's threads, so the caller may keep the JS thread busy (the scan) meanwhile.
 */
export async function startConversion(spec: ConvertSpec): Promise<Conversion> {
  const con = await (await db()).connect();
  const select = spec.columns.map((c) => sqlIdent(c.name)).join(', ');
  // Iceberg field ids (1-based column positions, lib/iceberg/schema.ts) in every new object
  const ids = duckdbFieldIds(spec.columns, sqlIdent);
  // run() hands the statement to DuckDB synchronously (no await before the native call)
  const running = con.run(
    `COPY (SELECT ${select} FROM ${readCsvSql(spec)}) TO ${sqlString(spec.output)} ` +
      `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880${ids ? `, FIELD_IDS ${ids}` : ''})`,
  );
  const done = running.then(
    (r) => {
      con.closeSync();
      return Number(r.rowsChanged);
    },
    (e: unknown) => {
      con.closeSync();
      throw e;
    },
  );
  return { done, cancel: () => con.interrupt() };
}

/** Converts and returns the number of rows written. */
export async function csvToParquet(spec: ConvertSpec): Promise<number> {
  return (await startConversion(spec)).done;
}

/** Column statistics of a Parquet file this container wrote (its footer; see lib/catalog/stats.ts). */
export async function fileStats(file: string, columns: SchemaColumn[]): Promise<ColumnStats[]> {
  const con = await (await db()).connect();
  try {
    return await parquetFileStats(con, file, columns);
  } finally {
    con.closeSync();
  }
}
