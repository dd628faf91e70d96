/**
 * Manifests (docs/api.md): identity, fingerprint and schema diff.
 */
import crypto from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { badRequest } from '../errors.js';
import type { Manifest, ObjectRef, SchemaColumn, SegmentRef } from './manifest-types.js';

export type { ColumnStats, Manifest, ObjectRef, SchemaChangeEntry, SchemaColumn, SegmentRef } from './manifest-types.js';

export const DATASET_NAMESPACE = 'a8f3c1d2-4e5b-5a6c-9d8e-7f0a1b2c3d4e';

/** What a version file stores beyond the API manifest. */
export interface StoredManifest extends Manifest {
  commit_id: string;
  /** Where the objects' entries are stored when not inline (read back into `objects` on load). */
  segments?: SegmentRef[];
  /** `drop`: a tombstone — the dataset is gone as of this version (no schema, no objects); `compact`: the same rows in fewer objects. */
  mode: 'create' | 'replace' | 'append' | 'drop' | 'compact';
}

/**
 * UUIDv5 of the name; a dataset created again after a drop gets a new id: UUIDv5 of the name and
 * the version of the tombstone it follows.
 */
export function datasetId(name: string, afterDrop?: number): string {
  return uuidv5(afterDrop === undefined ? name : `${name}\x1f${afterDrop}`, DATASET_NAMESPACE);
}

export function isDropped(m: StoredManifest | undefined): boolean {
  return m?.mode === 'drop';
}

/** Hex SHA-256 over (name, type) pairs: 0x1f inside a pair, 0x1e between pairs. */
export function fingerprint(schema: ReadonlyArray<{ name: string; type: string }>): string {
  const text = schema.map((c) => `${c.name}\x1f${c.type}`).join('\x1e');
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface SchemaDiff {
  added: Array<{ name: string; type: string }>;
  removed: Array<{ name: string; type: string }>;
  changed: Array<{ name: string; from: string; to: string }>;
}

export function schemaDiff(
  current: ReadonlyArray<{ name: string; type: string }>,
  next: ReadonlyArray<{ name: string; type: string }>,
): SchemaDiff {
  const cur = new Map(current.map((c) => [c.name, c.type]));
  const nxt = new Map(next.map((c) => [c.name, c.type]));
  const diff: SchemaDiff = { added: [], removed: [], changed: [] };
  for (const c of next) {
    const was = cur.get(c.name);
    if (was === undefined) diff.added.push({ name: c.name, type: c.type });
    else if (was !== c.type) diff.changed.push({ name: c.name, from: was, to: c.type });
  }
  for (const c of current) if (!nxt.has(c.name)) diff.removed.push({ name: c.name, type: c.type });
  return diff;
}

const SCALAR_TYPES = new Set([
  'BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER',
  'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE', 'VARCHAR', 'BLOB', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP_S',
  'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMP WITH TIME ZONE', 'INTERVAL', 'UUID',
]);

/**
 * Column types a manifest may carry: DuckDB scalar type names (upper case) and DECIMAL(p,s).
 * Types end up in SQL (typed placeholder views), so anything else is refused.
 */
export function normalizeType(t: unknown): string | undefined {
  if (typeof t !== 'string') return undefined;
  const u = t.trim().toUpperCase().replace(/\s+/g, ' ');
  if (SCALAR_TYPES.has(u)) return u;
  if (u === 'TIMESTAMPTZ') return 'TIMESTAMP WITH TIME ZONE';
  const m = /^DECIMAL\s?\((\d{1,2}),\s?(\d{1,2})\)$/.exec(u);
  if (m) {
    const p = Number(m[1]);
    const s = Number(m[2]);
    if (p >= 1 && p <= 38 && s <= p) return `DECIMAL(${p},${s})`;
  }
  return undefined;
}

export function validateSchema(input: unknown): SchemaColumn[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw badRequest('invalid_schema', 'schema must be a non-empty array of {name, type}.');
  }
  if (input.length > 10_000) throw badRequest('invalid_schema', 'schema has more than 10000 columns.');
  const seen = new Set<string>();
  return input.map((c, i) => {
    const col = c as { name?: unknown; type?: unknown; nullable?: unknown };
    if (!col || typeof col.name !== 'string' || col.name.length === 0 || col.name.length > 1024 || col.name.includes('\0')) {
      throw badRequest('invalid_schema', `schema[${i}].name must be a non-empty string of at most 1024 characters.`);
    }
    const type = normalizeType(col.type);
    if (!type) {
      throw badRequest('invalid_schema', `schema[${i}].type is not a supported column type.`, {
        column: col.name,
        type: typeof col.type === 'string' ? col.type.slice(0, 100) : null,
      });
    }
    const lower = col.name.toLowerCase();
    if (seen.has(lower)) throw badRequest('invalid_schema', `Column name "${col.name}" appears twice (names are case-insensitive).`);
    seen.add(lower);
    return { name: col.name, type, nullable: col.nullable === undefined ? true : col.nullable === true };
  });
}

export function sumRows(objects: ObjectRef[]): number | null {
  let total = 0;
  for (const o of objects) {
    if (o.row_count === null) return null;
    total += o.row_count;
  }
  return total;
}

/** The API view of a stored manifest (internal commit fields stripped). */
export function publicManifest(m: StoredManifest | Manifest): Manifest {
  return {
    dataset_id: m.dataset_id,
    name: m.name,
    schema_fingerprint: m.schema_fingerprint,
    schema: m.schema,
    objects: m.objects,
    row_count: m.row_count,
    version: m.version,
    created_at: m.created_at,
    updated_at: m.updated_at,
    ...(m.schema_changes?.length ? { schema_changes: m.schema_changes } : {}),
  };
}
