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

/**
 * A JSON-typed SQL expression for value `x` of type `t`. `single`: an expression that names `x`
 * only once (no CASE over it), for wide results — DuckDB's common-subexpression pass is quadratic
 * in the number of expressions that name a column more than once.
 */
export function jsonExpr(x: string, t: DuckDBType, single = false): string {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.SQLNULL:
      return `to_json(${x})`;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      if (single) return `regexp_replace(${x}::VARCHAR, ${sqlString(UNSAFE_INTEGER)}, '"\\1"')::JSON`;
      return `CASE WHEN ${x} BETWEEN -${SAFE} AND ${SAFE} THEN to_json(${x}) ELSE to_json(${x}::VARCHAR) END`;
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      if (single) return `regexp_replace(regexp_replace(to_json(${x})::VARCHAR, '^NaN$', '"nan"'), '^(-?)Infinity$', '"\\1inf"')::JSON`;
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

/** A VARCHAR SQL expression: the CSV cell for value `x` (RFC 4180 quoting; NULL → empty). `single`: see jsonExpr. */
export function csvExpr(x: string, t: DuckDBType, single = false): string {
  let text: string;
  switch (t.typeId) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      text = `replace(${x}::VARCHAR, ' ', 'T')`;
      break;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      text = `(${jsonExpr(x, t, single)})::VARCHAR`;
      break;
    case DuckDBTypeId.BLOB:
      text = `to_base64(${x})`;
      break;
    default:
      text = `${x}::VARCHAR`;
  }
  if (single) {
    // a text with a quote is always quoted, so doubling the quotes first is exact
    return `coalesce(regexp_replace(replace(${text}, '"', '""'), '(?s)^(.*[",\\r\\n].*|\\s.*|.*\\s)$', '"\\1"'), '')`;
  }
  return `CASE WHEN ${x} IS NULL THEN '' WHEN regexp_matches(${text}, '[",\\r\\n]|^\\s|\\s$') THEN '"' || replace(${text}, '"', '""') || '"' ELSE ${text} END`;
}

export function csvHeader(names: string[]): string {
  return names.map((n) => (/[",\r\n]|^\s|\s$/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join(',');
}
