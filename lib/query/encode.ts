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

/** A JSON-typed SQL expression for value `x` of type `t`. */
export function jsonExpr(x: string, t: DuckDBType): string {
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

/** A VARCHAR SQL expression: the CSV cell for value `x` (RFC 4180 quoting; NULL → empty). */
export function csvExpr(x: string, t: DuckDBType): string {
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
      text = `(${jsonExpr(x, t)})::VARCHAR`;
      break;
    case DuckDBTypeId.BLOB:
      text = `to_base64(${x})`;
      break;
    default:
      text = `${x}::VARCHAR`;
  }
  return `CASE WHEN ${x} IS NULL THEN '' WHEN regexp_matches(${text}, '[",\\r\\n]|^\\s|\\s$') THEN '"' || replace(${text}, '"', '""') || '"' ELSE ${text} END`;
}

export function csvHeader(names: string[]): string {
  return names.map((n) => (/[",\r\n]|^\s|\s$/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join(',');
}
