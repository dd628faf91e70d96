/**
 * How encoded rows come out of DuckDB, chunk by chunk (text-result.ts reads them).
 *
 * Narrow results: DuckDB builds each row's whole text (encode.ts); one VARCHAR column, and a NULL
 * row after the last one marks the end (DuckDB's C API ends a streamed result that fails part-way
 * as if it were complete, and no encoded row is ever NULL).
 *
 * Wide results (more than WIDE_COLUMNS columns): one row expression over thousands of columns costs
 * DuckDB more to bind and run than the query itself, and reading a prepared statement's column types
 * costs the square of the width. So the user's statement runs under a thin wrapper that only adds
 * an `__end` column (true on one extra row after the last), the column types are read from the
 * result, and JS encodes the values (js-values.ts). When a column has a type JS does not encode
 * exactly, DuckDB encodes each column's part with an expression that names it once (encode.ts
 * WidePart) and JS only finishes and joins the parts.
 */
import type { DuckDBDataChunk, DuckDBValue } from '@duckdb/node-api';
import { sqlIdent } from '../duckdb.js';
import { csvCell, csvWidePart, jsonString, jsonWidePart } from './encode.js';
import { jsonOf, textOf } from './js-values.js';
import type { Column } from './result.js';

export type RowFormat = 'json' | 'csv' | 'ndjson';

/** The encoded rows of one chunk; `ended` once the end marker was seen (it is not a row). */
export interface Decoded {
  rows: string[];
  ended: boolean;
}
export type ChunkDecoder = (chunk: DuckDBDataChunk) => Decoded;

/**
 * Past this many result columns, rows are built in JS (see above). Below it DuckDB's row expression
 * is cheaper for long results (100,000 rows × 100 columns: 1.3 s against 3.1 s in JS) and its
 * binding is still small (0.3 s at 1,000 columns); above it the binding grows with the square of
 * the width (1.1 s at 2,000 columns, 4.6 s at 4,000) while JS stays linear (0.15 s, 0.4 s).
 */
export const WIDE_COLUMNS = 1000;

export function decodeNarrow(chunk: DuckDBDataChunk): Decoded {
  const values = chunk.getColumnValues(0) as Array<string | null>;
  const ended = values.length > 0 && values[values.length - 1] === null;
  if (ended) values.pop();
  return { rows: values as string[], ended };
}

/** `FROM (<statement>) AS __q(c1, …)`: positional aliases, so duplicate names work. */
export function fromPositional(userSql: string, width: number): string {
  return `FROM (\n${userSql}\n) AS __q(${Array.from({ length: width }, (_, i) => sqlIdent(`c${i + 1}`)).join(', ')})`;
}

/** Rows of `width` columns plus the end marker, each column's cell built by `finish`. */
function rowsDecoder(format: RowFormat, names: string[], finish: Array<(v: DuckDBValue) => string>): ChunkDecoder {
  const n = finish.length;
  const keys = format === 'ndjson' ? names.map((name) => `${jsonString(name)}:`) : undefined;
  const [open, close] = format === 'json' ? ['[', ']'] : format === 'ndjson' ? ['{', '}'] : ['', ''];
  return (chunk) => {
    const ends = chunk.getColumnValues(n) as Array<boolean | null>;
    const cols: DuckDBValue[][] = [];
    for (let i = 0; i < n; i++) cols.push(chunk.getColumnValues(i));
    const rows: string[] = [];
    let ended = false;
    for (let r = 0; r < chunk.rowCount; r++) {
      if (ends[r]) {
        ended = true;
        break;
      }
      const cells = new Array<string>(n);
      for (let i = 0; i < n; i++) cells[i] = keys ? keys[i]! + finish[i]!(cols[i]![r]!) : finish[i]!(cols[i]![r]!);
      rows.push(open + cells.join(',') + close);
    }
    return { rows, ended };
  };
}

/** The statement that runs the user's as it is, plus the end marker (values encoded by directDecoder). */
export function directSql(userSql: string, width: number, limit: number): string {
  return `SELECT * FROM (SELECT *, false AS __end ${fromPositional(userSql, width)} LIMIT ${limit + 1}) UNION ALL SELECT ${'NULL, '.repeat(width)}true`;
}

/** The decoder of directSql's chunks, if JS encodes every column's type exactly (js-values.ts). */
export function directDecoder(format: RowFormat, columns: Column[]): ChunkDecoder | undefined {
  const finish: Array<(v: DuckDBValue) => string> = [];
  for (const c of columns) {
    if (format === 'csv') {
      const text = textOf(c.type);
      if (!text) return undefined;
      finish.push((v) => (v === null ? '' : csvCell(text(v))));
    } else {
      const json = jsonOf(c.type);
      if (!json) return undefined;
      finish.push((v) => (v === null ? 'null' : json(v)));
    }
  }
  return rowsDecoder(format, columns.map((c) => c.name), finish);
}

/** DuckDB encodes each column's part (any type), JS finishes and joins them. */
export function partsRows(format: RowFormat, columns: Column[], from: string, limit: number): { sql: string; decode: ChunkDecoder } {
  const part = format === 'csv' ? csvWidePart : jsonWidePart;
  const parts = columns.map((c, i) => part(`__q.${sqlIdent(`c${i + 1}`)}`, c.type));
  const select = parts.map((p, i) => `${p.sql} AS ${sqlIdent(`v${i + 1}`)}`).join(', ');
  const sql = `SELECT * FROM (SELECT ${select}, false AS __end ${from} LIMIT ${limit + 1}) UNION ALL SELECT ${'NULL, '.repeat(parts.length)}true`;
  const finish = parts.map((p) => (v: DuckDBValue) => p.finish(v as string | null));
  return { sql, decode: rowsDecoder(format, columns.map((c) => c.name), finish) };
}
