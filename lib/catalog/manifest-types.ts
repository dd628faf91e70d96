/**
 * The catalog's data shapes (docs/api.md "Manifest"), declarations only: no imports, so the
 * browser console can use the server's own definitions (console/types.ts).
 */
export interface SchemaColumn {
  name: string;
  type: string;
  nullable: boolean;
}

export interface ColumnStats {
  name: string;
  /** Smallest and largest non-null value, as text; null when unknown (no exact statistics, or only NULLs). */
  min: string | null;
  max: string | null;
  /** NULLs in the column; null when unknown. */
  nulls: number | null;
}

export interface ObjectRef {
  key: string;
  size: number;
  row_count: number | null;
  /** The object's own schema, when it differs from the dataset's (an evolved dataset). */
  schema_fingerprint?: string;
  /** Per-column min/max/null count (stats.ts); absent when not known (e.g. registered objects). */
  stats?: ColumnStats[];
}

export interface Manifest {
  dataset_id: string;
  name: string;
  schema_fingerprint: string;
  schema: SchemaColumn[];
  objects: ObjectRef[];
  row_count: number | null;
  version: number;
  created_at: string;
  updated_at: string;
  /** The schema changes this version made (absent when none). */
  schema_changes?: SchemaChangeEntry[];
}

/** One schema change a version made (docs/adr/0008-schema-evolution-and-drop.md). */
export interface SchemaChangeEntry {
  /** evolve — added: a new column; widened: its type grew; missing: absent from the new rows (NULL there). overwrite — added, removed, changed. */
  change: 'added' | 'widened' | 'missing' | 'removed' | 'changed';
  name: string;
  from?: string;
  to?: string;
}

/** A file of object entries that a version lists instead of holding them inline (segments.ts). */
export interface SegmentRef {
  key: string;
  objects: number;
}
