/**
 * Result encoding done by DuckDB itself: for each result column, an SQL expression that turns the
 * value into its JSON text (docs/api.md value rules) or its CSV cell. Building rows in SQL avoids
 * materialising every value as a JS object (measured in docs/BASELINE.md).
 *
 * JSON rules: integers as numbers when |v| ≤ 2^53−1, else strings; DECIMAL as strings;
 * DATE/TIMESTAMP as ISO-8601 strings; non-finite floats as strings; NULL as null; BLOB base64;
 * LIST/ARRAY/STRUCT recursively with the same rules.
 */
import { DuckDBTypeId, type DuckDBType, DuckDBListType, DuckDBArrayType, DuckDBStructType } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';

const SAFE = '9007199254740991';
let lambdaSeq = 0;

/** RE2 pattern of the integer texts beyond ±(2^53−1): 17 digits or more, or 16 digits above SAFE. */
export function unsafeIntegerPattern(): string {
  const alts = ['[0-9]{17,}'];
  for (let i = 0; i < SAFE.length; i++) {
    const d = Number(SAFE[i]);
    if (d === 9) continue;
    const rest = SAFE.length - i - 1;
    alts.push(`${SAFE.slice(0, i)}${d + 1 === 9 ? '9' : `[${d + 1}-9]`}${rest ? `[0-9]{${rest}}` : ''}`);
  }
  return `^(-?(?:${alts.join('|')}))$`;
}
const UNSAFE_INTEGER = unsafeIntegerPattern();

/** Booleans and integers of 32 bits or fewer: their JSON is their text, always a valid number. */
export const SMALL_SCALARS: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
]);

/** A JSON-typed SQL expression for value `x` of type `t`. */
export function jsonExpr(x: string, t: DuckDBType): string {
  if (SMALL_SCALARS.has(t.typeId)) return `to_json(${x})`;
  switch (t.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.SQLNULL:
      return `to_json(${x})`;
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      // compared as unsigned: a signed bound would cast the value to a signed type (out of range)
      return `CASE WHEN ${x} <= ${SAFE}::UHUGEINT THEN to_json(${x}) ELSE to_json(${x}::VARCHAR) END`;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.BIGNUM:
      return `CASE WHEN ${x} BETWEEN -${SAFE} AND ${SAFE} THEN to_json(${x}) ELSE to_json(${x}::VARCHAR) END`;
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return `CASE WHEN isfinite(${x}) THEN to_json(${x}) ELSE to_json(${x}::VARCHAR) END`;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return `to_json(replace(${x}::VARCHAR, ' ', 'T'))`;
    case DuckDBTypeId.BLOB:
      return `to_json(to_base64(${x}))`;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const inner = (t as DuckDBListType | DuckDBArrayType).valueType;
      const v = `e${++lambdaSeq}`;
      return `CASE WHEN ${x} IS NULL THEN NULL ELSE to_json(list_transform(${x}, lambda ${v}: ${jsonExpr(v, inner)})) END`;
    }
    case DuckDBTypeId.STRUCT: {
      const st = t as DuckDBStructType;
      const parts = st.entryNames.map((n, i) => `${sqlString(n)}, ${jsonExpr(`struct_extract(${x}, ${sqlString(n)})`, st.entryTypes[i]!)}`);
      return `CASE WHEN ${x} IS NULL THEN NULL ELSE json_object(${parts.join(', ')}) END`;
    }
    case DuckDBTypeId.MAP:
      return `to_json(${x})`;
    default:
      // DATE, TIME, INTERVAL, DECIMAL, UUID, ENUM, BIT, UNION, …: their text form
      return `to_json(${x}::VARCHAR)`;
  }
}

/** A VARCHAR SQL expression: the text of value `x` in a CSV cell, before quoting (NULL stays NULL). */
export function csvText(x: string, t: DuckDBType): string {
  switch (t.typeId) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return `replace(${x}::VARCHAR, ' ', 'T')`;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return `(${jsonExpr(x, t)})::VARCHAR`;
    case DuckDBTypeId.BLOB:
      return `to_base64(${x})`;
    default:
      return `${x}::VARCHAR`;
  }
}

/** A VARCHAR SQL expression: the CSV cell for value `x` (RFC 4180 quoting; NULL → empty). */
export function csvExpr(x: string, t: DuckDBType): string {
  const text = csvText(x, t);
  return `CASE WHEN ${x} IS NULL THEN '' WHEN regexp_matches(${text}, '[",\\r\\n]|^\\s|\\s$') THEN '"' || replace(${text}, '"', '""') || '"' ELSE ${text} END`;
}

/**
 * Wide results (wide-rows.ts): each column's part is computed by DuckDB with an expression that
 * names the value once and binds nothing costly (no pattern to compile), and finished in JS by a
 * rule that only looks at that text. Together they give exactly the text of jsonExpr / csvExpr
 * (test/query-unit.test.ts runs both on the same values).
 */
export interface WidePart {
  /** A VARCHAR SQL expression over `x`. */
  sql: string;
  /** The finished JSON value or CSV cell from the text (null: SQL NULL). */
  finish: (text: string | null) => string;
}

const UNSAFE_INTEGER_RE = new RegExp(UNSAFE_INTEGER);
/** RE2's \s (DuckDB's regexp_matches) is [\t\n\f\r ]; JavaScript's is wider. */
const CSV_NEEDS_QUOTES = /[",\r\n]|^[\t\n\f\r ]|[\t\n\f\r ]$/;

const jsonAsIs = (v: string | null) => v ?? 'null';
const jsonInteger = (v: string | null) => (v === null ? 'null' : UNSAFE_INTEGER_RE.test(v) ? `"${v}"` : v);
const jsonFloat = (v: string | null) =>
  v === null ? 'null' : v === 'NaN' ? '"nan"' : v === 'Infinity' ? '"inf"' : v === '-Infinity' ? '"-inf"' : v;
/** A CSV cell from a value's text (null: SQL NULL), quoted as csvExpr does. */
export const csvCell = (v: string | null): string => (v === null ? '' : CSV_NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function jsonWidePart(x: string, t: DuckDBType): WidePart {
  switch (t.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return { sql: `${x}::VARCHAR`, finish: jsonInteger };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { sql: `to_json(${x})::VARCHAR`, finish: jsonFloat };
    default:
      return { sql: `(${jsonExpr(x, t)})::VARCHAR`, finish: jsonAsIs };
  }
}

export function csvWidePart(x: string, t: DuckDBType): WidePart {
  return { sql: csvText(x, t), finish: csvCell };
}

/** A JSON string as DuckDB writes it (control characters as \u00XX in upper case). */
export function jsonString(name: string): string {
  const j = JSON.stringify(name);
  if (!j.includes('\\u')) return j;
  return j.replace(/\\(?:\\|u([0-9a-f]{4}))/g, (m, h: string | undefined) => (h ? `\\u${h.toUpperCase()}` : m));
}

export function csvHeader(names: string[]): string {
  return names.map((n) => (/[",\r\n]|^\s|\s$/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join(',');
}
