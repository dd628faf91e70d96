/**
 * Preparing the user's statement (checking its type, binding its parameters, reading its result
 * columns) and its row-encoding wrapper (encode.ts, ADR 0005). Compiled wrappers are cached on the
 * pooled connection, keyed by the text, the format, the limit, the parameter types and the
 * definitions of the views it reads.
 */
import { StatementType, DuckDBTypeId, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';
import { badRequest } from '../errors.js';
import { sqlIdent, sqlString } from '../duckdb.js';
import { forbiddenStatement } from './sandbox.js';
import { csvExpr, jsonExpr } from './encode.js';
import { WIDE_COLUMNS, decodeNarrow, directDecoder, directSql, fromPositional, partsRows, type ChunkDecoder, type RowFormat } from './wide-rows.js';
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
    return { columns, from: fromPositional(userSql, columns.length) };
  } finally {
    prepared.destroySync();
  }
}

/** The user's statement prepared once to check its type and read its column names (no types: Arrow keeps DuckDB's own). */
export async function names(con: DuckDBConnection, userSql: string, params: SqlRequest['params']): Promise<{ names: string[]; from: string }> {
  const prepared = await con.prepare(userSql);
  try {
    if (prepared.statementType !== StatementType.SELECT) throw forbiddenStatement('Only read-only queries are allowed.');
    bindAll(prepared, params);
    const width = prepared.columnCount;
    return { names: Array.from({ length: width }, (_, i) => prepared.columnName(i)), from: fromPositional(userSql, width) };
  } finally {
    prepared.destroySync();
  }
}

/** The SQL expression that encodes one result row as its text in the format asked (narrow results). */
export function rowExpression(format: RowFormat, columns: Column[]): string {
  const ref = (i: number) => `__q.${sqlIdent(`c${i + 1}`)}`;
  if (format === 'json') return `json_array(${columns.map((c, i) => jsonExpr(ref(i), c.type)).join(', ')})::VARCHAR`;
  if (format === 'ndjson') return `json_object(${columns.map((c, i) => `${sqlString(c.name)}, ${jsonExpr(ref(i), c.type)}`).join(', ')})::VARCHAR`;
  return `concat_ws(',', ${columns.map((c, i) => csvExpr(ref(i), c.type)).join(', ')})`;
}

/** A started statement: its streamed result, the result's columns and the decoder of its chunks. */
export interface Opened {
  stmt: DuckDBPreparedStatement;
  result: DuckDBResult;
  columns: Column[];
  decode: ChunkDecoder;
}

/** A compiled row-encoding statement, reusable with new parameter values. */
export interface Compiled {
  open(params: SqlRequest['params']): Promise<Opened>;
  destroy(): void;
}

function bindAgain(stmt: DuckDBPreparedStatement, params: SqlRequest['params']): DuckDBPreparedStatement {
  stmt.clearBindings();
  bindAll(stmt, params);
  return stmt;
}

/** Narrow results: DuckDB builds each row's text; a NULL row after the last one marks the end. */
class NarrowStatement implements Compiled {
  constructor(
    private readonly stmt: DuckDBPreparedStatement,
    private readonly columns: Column[],
  ) {}

  async open(params: SqlRequest['params']): Promise<Opened> {
    const result = await bindAgain(this.stmt, params).stream();
    return { stmt: this.stmt, result, columns: this.columns, decode: decodeNarrow };
  }

  destroy(): void {
    this.stmt.destroySync();
  }
}

/**
 * Wide results (wide-rows.ts): the statement runs as it is; the columns' types come from the
 * result, and JS encodes the values. If a type is one JS does not encode exactly, this statement
 * switches for good to DuckDB-encoded parts, and runs again.
 */
class WideStatement implements Compiled {
  private parts?: { stmt: DuckDBPreparedStatement; columns: Column[]; decode: ChunkDecoder };

  constructor(
    private readonly con: DuckDBConnection,
    private readonly direct: DuckDBPreparedStatement,
    private readonly names: string[],
    private readonly userSql: string,
    private readonly format: RowFormat,
    private readonly limit: number,
  ) {}

  async open(params: SqlRequest['params']): Promise<Opened> {
    if (!this.parts) {
      const result = await bindAgain(this.direct, params).stream();
      const types = result.columnTypes();
      const columns = this.names.map((name, i) => ({ name, type: types[i]! }));
      const decode = directDecoder(this.format, columns);
      if (decode) return { stmt: this.direct, result, columns, decode };
      const rows = partsRows(this.format, columns, fromPositional(this.userSql, columns.length), this.limit);
      this.parts = { stmt: await this.con.prepare(rows.sql), columns, decode: rows.decode };
    }
    const { stmt, columns, decode } = this.parts;
    return { stmt, result: await bindAgain(stmt, params).stream(), columns, decode };
  }

  destroy(): void {
    this.direct.destroySync();
    this.parts?.stmt.destroySync();
  }
}

/** Prepares the user's statement (its type checked, its parameters counted) and its encoding. */
async function compile(con: DuckDBConnection, userSql: string, format: RowFormat, params: SqlRequest['params'], limit: number): Promise<Compiled> {
  const prepared = await con.prepare(userSql);
  try {
    if (prepared.statementType !== StatementType.SELECT) throw forbiddenStatement('Only read-only queries are allowed.');
    bindAll(prepared, params);
    const width = prepared.columnCount;
    if (width > WIDE_COLUMNS) {
      const names = Array.from({ length: width }, (_, i) => prepared.columnName(i));
      return new WideStatement(con, await con.prepare(directSql(userSql, width, limit)), names, userSql, format, limit);
    }
    const columns = await resultColumns(con, prepared, userSql, params);
    const rows = `SELECT ${rowExpression(format, columns)} AS __row ${fromPositional(userSql, columns.length)} LIMIT ${limit + 1}`;
    return new NarrowStatement(await con.prepare(`SELECT __row FROM (${rows}) UNION ALL SELECT NULL`), columns);
  } finally {
    prepared.destroySync();
  }
}

/** The compiled row-encoding statement for a text format (cached per connection). */
export async function textStatement(engine: Engine, con: DuckDBConnection, userSql: string, datasets: string[], req: SqlRequest, pruneKey = ''): Promise<Compiled> {
  const format = req.format as RowFormat;
  const cache = engine.connections.cacheFor<Compiled>(con);
  const key = `${format}|${req.limit}|${engine.viewEpochs(datasets)}|${pruneKey}|${paramSignature(req.params)}|${userSql}`;
  let compiled = cache.get(key);
  if (compiled) cache.delete(key);
  else compiled = await compile(con, userSql, format, req.params, req.limit);
  cache.set(key, compiled);
  if (cache.size > CACHE_MAX) {
    const oldest = cache.keys().next().value!;
    cache.get(oldest)?.destroy();
    cache.delete(oldest);
  }
  return compiled;
}
