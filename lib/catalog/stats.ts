/**
 * Per-object column statistics kept in the manifest (min, max, null count), read from the Parquet
 * footer DuckDB wrote, and the one typed comparison used both to aggregate them and to prune objects
 * (lib/query/prune.ts). Values are kept as DuckDB's text of the value; only exact statistics are
 * kept (a truncated string bound is no bound). Orderable types only: BIGINT, DOUBLE, DATE,
 * TIMESTAMP, VARCHAR.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';
import type { ColumnStats, SchemaColumn } from './manifest-types.js';

export type { ColumnStats } from './manifest-types.js';

export const ORDERABLE = new Set(['BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'VARCHAR']);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/**
 * Orders two values of a column type given as text; undefined when a text is not a value this
 * comparison understands exactly (then nothing may be concluded from it).
 */
export function compareText(type: string, a: string, b: string): number | undefined {
  switch (type) {
    case 'BIGINT': {
      if (!/^-?\d+$/.test(a) || !/^-?\d+$/.test(b)) return undefined;
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'DOUBLE': {
      const x = Number(a);
      const y = Number(b);
      if (!Number.isFinite(x) || !Number.isFinite(y) || a.trim() === '' || b.trim() === '') return undefined;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'DATE':
      if (!ISO_DATE.test(a) || !ISO_DATE.test(b)) return undefined;
      return a < b ? -1 : a > b ? 1 : 0;
    case 'TIMESTAMP':
      // same fixed-width prefix, then fraction digits left-aligned: text order is time order
      if (!ISO_TS.test(a) || !ISO_TS.test(b)) return undefined;
      return a < b ? -1 : a > b ? 1 : 0;
    case 'VARCHAR':
      // DuckDB orders strings by their UTF-8 bytes
      return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    default:
      return undefined;
  }
}

interface Row {
  path_in_schema: string;
  stats_min_value: string | null;
  stats_max_value: string | null;
  stats_null_count: bigint | number | null;
  min_is_exact: boolean | null;
  max_is_exact: boolean | null;
  num_values: bigint | number;
}

/** Column statistics of a local Parquet file written with `schema`'s columns (its footer only). */
export async function parquetFileStats(con: DuckDBConnection, file: string, schema: SchemaColumn[]): Promise<ColumnStats[]> {
  const r = await con.runAndReadAll(
    `SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count, min_is_exact, max_is_exact, num_values FROM parquet_metadata(${sqlString(file)})`,
  );
  const rows = r.getRowObjects() as unknown as Row[];
  const types = new Map(schema.map((c) => [c.name, c.type]));
  const acc = new Map<string, { min: string | null; max: string | null; nulls: number | null; known: boolean }>();
  for (const row of rows) {
    const type = types.get(row.path_in_schema);
    if (!type) continue;
    const cur = acc.get(row.path_in_schema) ?? { min: null, max: null, nulls: 0, known: ORDERABLE.has(type) };
    acc.set(row.path_in_schema, cur);
    cur.nulls = cur.nulls === null || row.stats_null_count === null ? null : cur.nulls + Number(row.stats_null_count);
    const allNull = row.stats_null_count !== null && Number(row.stats_null_count) === Number(row.num_values);
    if (!cur.known || allNull) continue;
    if (row.stats_min_value === null || row.stats_max_value === null || row.min_is_exact !== true || row.max_is_exact !== true) {
      cur.known = false;
      continue;
    }
    const lo = compareText(type, row.stats_min_value, row.stats_min_value);
    if (lo === undefined) {
      cur.known = false;
      continue;
    }
    if (cur.min === null || compareText(type, row.stats_min_value, cur.min)! < 0) cur.min = row.stats_min_value;
    if (cur.max === null || compareText(type, row.stats_max_value, cur.max)! > 0) cur.max = row.stats_max_value;
  }
  return schema
    .filter((c) => acc.has(c.name))
    .map((c) => {
      const a = acc.get(c.name)!;
      return { name: c.name, min: a.known ? a.min : null, max: a.known ? a.max : null, nulls: a.nulls };
    });
}
