/** CSV → Parquet with DuckDB, reading with exactly the dialect and types ingest decided. */
import type { DuckDBInstance } from '@duckdb/node-api';
import { createInstance, sqlIdent, sqlString } from '../duckdb.js';
import type { Dialect } from './scan.js';

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
}

export function readCsvSql(spec: ConvertSpec): string {
  const ch = (c: number) => (c < 0 ? "''" : sqlString(String.fromCharCode(c)));
  const cols = spec.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
  const text = spec.columns.filter((c) => c.type === 'VARCHAR').map((c) => sqlString(c.name));
  return (
    `read_csv(${sqlString(spec.input)}, delim=${ch(spec.dialect.delimiter)}, quote=${ch(spec.dialect.quote)}, ` +
    `escape=${ch(spec.dialect.escape)}, header=${spec.header}, auto_detect=false, strict_mode=true, ` +
    `null_padding=false, max_line_size=${64 * 1024 * 1024}, columns={${cols}}` +
    (text.length ? `, force_not_null=[${text.join(', ')}]` : '') +
    ')'
  );
}

/** Converts and returns the number of rows written. */
export async function csvToParquet(spec: ConvertSpec): Promise<number> {
  const con = await (await db()).connect();
  try {
    const select = spec.columns.map((c) => sqlIdent(c.name)).join(', ');
    const r = await con.run(
      `COPY (SELECT ${select} FROM ${readCsvSql(spec)}) TO ${sqlString(spec.output)} ` +
        `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
    return Number(r.rowsChanged);
  } finally {
    con.closeSync();
  }
}
