/**
 * Preparing the user's statement (checking its type, binding its parameters, reading its result
 * columns) and its row-encoding wrapper (encode.ts, ADR 0005). Compiled wrappers are cached on the
 * pooled connection, keyed by the text, the format, the limit, the parameter types and the
 * definitions of the views it reads.
 */
import { StatementType, DuckDBTypeId, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import { badRequest } from '../errors.js';
import { sqlIdent, sqlString } from '../duckdb.js';
import { forbiddenStatement } from './sandbox.js';
import { csvExpr, jsonExpr } from './encode.js';
import type { Engine } from './engine.js';
import type { Column } from './result.js';
import type { SqlRequest } from './request.js';

const CACHE_MAX = 64;

export function bindAll(p: DuckDBPreparedStatement, params: SqlRequest['params']): void {
  const expected = p.parameterCount;
  const given = params === undefined ? 0 : Array.isArray(params) ? params.length : Object.keys(params).length;
  if (expected !== given) {
    throw badRequest('invalid_params', `The query has ${expected} parameter(s); ${given} given.`, { expected, given });
  }
  if (params !== undefined && given > 0) p.bind(params);
}

export function paramSignature(params: SqlRequest['params']): string {
  if (params === undefined) return '';
  const t = (v: DuckDBValue) => (v === null ? 'n' : typeof v === 'bigint' ? 'i' : typeof v === 'number' ? 'd' : typeof v === 'boolean' ? 'b' : 's');
  return Array.isArray(params) ? params.map(t).join('') : Object.entries(params).map(([k, v]) => `${k}:${t(v)}`).join(',');
}

/** Column names and types of the result; a LIMIT 0 run when parameters leave types open. */
async function resultColumns(con: DuckDBConnection, prepared: DuckDBPreparedStatement, userSql: string, params: SqlRequest['params']): Promise<Column[]> {
  const n = prepared.columnCount;
  const columns: Column[] = [];
  // a prepared statement's column type accessors copy every column's type on each call (quadratic
  // in the width): past WIDE_COLUMNS the types come from an empty run's result instead
  for (let i = 0; i < (n > WIDE_COLUMNS ? 0 : n); i++) {
    if (prepared.columnTypeId(i) === DuckDBTypeId.INVALID) break;
    columns.push({ name: prepared.columnName(i), type: prepared.columnType(i) });
  }
  if (columns.length === n) return columns;
  const probe = await con.prepare(`SELECT * FROM (\n${userSql}\n) AS __q LIMIT 0`);
  try {
    bindAll(probe, params);
    const r = await probe.run();
    const types = r.columnTypes();
    // names as the statement gives them (a subquery's star would rename duplicates)
    return types.map((type, i) => ({ name: i < n ? prepared.columnName(i) : r.columnName(i), type }));
  } finally {
    probe.destroySync();
  }
}

export interface Shaped {
  columns: Column[];
  /** `FROM (<user statement>) AS __q(c1, …)`: positional aliases, so duplicate names work. */
  from: string;
}

/** Prepares the user's statement once to check its type and read its result columns. */
export async function shape(con: DuckDBConnection, userSql: string, params: SqlRequest['params']): Promise<Shaped> {
  const prepared = await con.prepare(userSql);
  try {
    if (prepared.statementType !== StatementType.SELECT) throw forbiddenStatement('Only read-only queries are allowed.');
    bindAll(prepared, params);
    const columns = await resultColumns(con, prepared, userSql, params);
    const aliases = columns.map((_, i) => sqlIdent(`c${i + 1}`)).join(', ');
    return { columns, from: `FROM (\n${userSql}\n) AS __q(${aliases})` };
  } finally {
    prepared.destroySync();
  }
}

/** The SQL expression that encodes one result row as its text in the format asked. */
export function rowExpression(format: 'json' | 'csv' | 'ndjson', columns: Column[]): string {
  const ref = (i: number) => `__q.${sqlIdent(`c${i + 1}`)}`;
  const wide = columns.length > WIDE_COLUMNS;
  if (format === 'json') return `json_array(${columns.map((c, i) => jsonExpr(ref(i), c.type, wide)).join(', ')})::VARCHAR`;
  if (format === 'ndjson') return `json_object(${columns.map((c, i) => `${sqlString(c.name)}, ${jsonExpr(ref(i), c.type, wide)}`).join(', ')})::VARCHAR`;
  return `concat_ws(',', ${columns.map((c, i) => csvExpr(ref(i), c.type, wide)).join(', ')})`;
}

/**
 * Past this many columns each column's expression names its value once (encode.ts): DuckDB's
 * common-subexpression pass is quadratic in the number of expressions that repeat a reference.
 */
export const WIDE_COLUMNS = 64;

interface Compiled {
  stmt: DuckDBPreparedStatement;
  columns: Column[];
}

/** The prepared, bound row-encoding statement for a text format (cached per connection). */
export async function textStatement(engine: Engine, con: DuckDBConnection, userSql: string, datasets: string[], req: SqlRequest, pruneKey = ''): Promise<Compiled> {
  const format = req.format as 'json' | 'csv' | 'ndjson';
  const cache = engine.cacheFor<Compiled>(con);
  const key = `${format}|${req.limit}|${engine.viewEpochs(datasets)}|${pruneKey}|${paramSignature(req.params)}|${userSql}`;
  let compiled = cache.get(key);
  if (compiled) {
    cache.delete(key);
    compiled.stmt.clearBindings();
  } else {
    const s = await shape(con, userSql, req.params);
    // a NULL row after the last one marks the end: DuckDB's C API ends a streamed result that fails
    // part-way (a cast, error()) as if it were complete, and no encoded row is ever NULL
    const rows = `SELECT ${rowExpression(format, s.columns)} AS __row ${s.from} LIMIT ${req.limit + 1}`;
    compiled = { stmt: await con.prepare(`SELECT __row FROM (${rows}) UNION ALL SELECT NULL`), columns: s.columns };
  }
  cache.set(key, compiled);
  if (cache.size > CACHE_MAX) {
    const oldest = cache.keys().next().value!;
    cache.get(oldest)?.stmt.destroySync();
    cache.delete(oldest);
  }
  bindAll(compiled.stmt, req.params);
  return compiled;
}
