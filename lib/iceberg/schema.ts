/**
 * A dataset schema as an Iceberg schema: field ids, types, the name mapping, and the ids new
 * Parquet objects are written with (docs/adr/0010-iceberg-tables.md "Field ids").
 *
 * Field id = the column's 1-based position in the dataset schema. Ingest knows it without reading
 * anything, so every object carries the same ids the table metadata declares; a schema only
 * changes at a replace that installs a new one (schema_change "overwrite"), which replaces every
 * object, so no live object ever carries ids of another schema.
 */
import { icebergType, type IcebergField, type IcebergSchema } from './types.js';

export interface Column {
  name: string;
  type: string;
}

/** Why a schema has no Iceberg form (the first column without an exact type), or undefined. */
export function unsupportedReason(columns: readonly Column[]): string | undefined {
  for (const c of columns) {
    if (!icebergType(c.type)) return `column "${c.name}" has type ${c.type}, which has no exact Apache Iceberg v2 type`;
  }
  return undefined;
}

/** The field id of the column at `index` (0-based) in a dataset schema. */
export function fieldId(index: number): number {
  return index + 1;
}

export function icebergFields(columns: readonly Column[]): IcebergField[] {
  return columns.map((c, i) => {
    const type = icebergType(c.type);
    if (!type) throw new Error(unsupportedReason([c]));
    // optional: objects written by DuckDB (and registered ones) declare their columns optional
    return { id: fieldId(i), name: c.name, required: false, type };
  });
}

export function icebergSchema(columns: readonly Column[], schemaId: number): IcebergSchema {
  return { type: 'struct', 'schema-id': schemaId, fields: icebergFields(columns) };
}

/** Same fields (ids, names, types, required)? */
export function sameFields(a: IcebergSchema, b: IcebergSchema): boolean {
  return JSON.stringify(a.fields) === JSON.stringify(b.fields);
}

/** `schema.name-mapping.default`: lets readers resolve columns of objects written without field ids. */
export function nameMapping(schema: IcebergSchema): string {
  return JSON.stringify(schema.fields.map((f) => ({ 'field-id': f.id, names: [f.name] })));
}

/**
 * The DuckDB `FIELD_IDS {…}` value for `COPY … (FORMAT parquet, FIELD_IDS …)`, or undefined when
 * the schema has no Iceberg form. Explicit ids: `'auto'` numbers from 0.
 */
export function duckdbFieldIds(columns: readonly Column[], quoteIdent: (s: string) => string): string | undefined {
  if (unsupportedReason(columns)) return undefined;
  return `{${columns.map((c, i) => `${quoteIdent(c.name)}: ${fieldId(i)}`).join(', ')}}`;
}
