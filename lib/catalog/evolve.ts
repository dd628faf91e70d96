/**
 * Schema evolution on append (docs/adr/0008-schema-evolution-and-drop.md): the dataset's schema
 * after appending objects of another schema. Columns keep their place; new columns are added at
 * the end (NULL in the older rows); a column absent from the new objects stays (NULL in the new
 * rows); a column whose types differ widens to the narrowest type that holds both without
 * changing a value: BIGINT and DOUBLE → DOUBLE (only when every integer is within ±2^53, checked
 * against the objects' Parquet statistics), anything else → VARCHAR. Pure: the statistics check
 * is the caller's (see `needsIntegerCheck`).
 */
import type { SchemaChangeEntry, SchemaColumn } from './manifest.js';

export interface Evolution {
  schema: SchemaColumn[];
  changes: SchemaChangeEntry[];
  /** Columns widened from BIGINT to DOUBLE: every integer stored in them must be exactly representable. */
  integerToDouble: string[];
}

function widen(a: string, b: string): string {
  if (a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has('BIGINT') && pair.has('DOUBLE')) return 'DOUBLE';
  return 'VARCHAR';
}

/** The evolved schema of `current` after appending objects of schema `incoming`. */
export function evolveSchema(current: SchemaColumn[], incoming: SchemaColumn[]): Evolution {
  const byName = new Map(incoming.map((c) => [c.name, c]));
  const known = new Set(current.map((c) => c.name));
  const changes: SchemaChangeEntry[] = [];
  const integerToDouble: string[] = [];
  const schema = current.map((c) => {
    const inc = byName.get(c.name);
    if (!inc) {
      changes.push({ change: 'missing', name: c.name });
      return c;
    }
    const type = widen(c.type, inc.type);
    if (type !== c.type) {
      changes.push({ change: 'widened', name: c.name, from: c.type, to: type });
      if (type === 'DOUBLE') integerToDouble.push(c.name);
    } else if (type === 'DOUBLE' && inc.type === 'BIGINT') {
      integerToDouble.push(c.name);
    }
    return { ...c, type, nullable: true };
  });
  for (const c of incoming) {
    if (known.has(c.name)) continue;
    changes.push({ change: 'added', name: c.name, to: c.type });
    schema.push({ ...c, nullable: true });
  }
  return { schema, changes, integerToDouble };
}

/** The type to write a new object's column with so that it needs no cast that could change a value. */
export function storageTypes(incoming: SchemaColumn[], evolved: SchemaColumn[]): SchemaColumn[] {
  const target = new Map(evolved.map((c) => [c.name, c.type]));
  return incoming.map((c) => (target.get(c.name) === 'VARCHAR' && c.type !== 'VARCHAR' ? { ...c, type: 'VARCHAR' } : c));
}
