/**
 * The SELECT that reads a version's objects (local Parquet files, in manifest order) as the
 * dataset's columns and types — the query engine's views and compaction both use it.
 *
 * Objects written with the dataset's schema are read as they are. An evolved dataset's objects
 * differ (ADR 0008): each run of consecutive objects with one schema is read on its own and every
 * column is cast from *that object's* type to the dataset's (or is NULL where the object lacks
 * it). Letting DuckDB unify the files' types instead (`union_by_name`) would make a value's text
 * depend on which other files are in the set — a pruned subset or a compaction bin would render
 * 7 as '7.0' where the whole dataset renders '7'.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../duckdb.js';
import { normalizeType, type ObjectRef, type StoredManifest } from './manifest.js';

export function isEvolved(m: StoredManifest, objects: ObjectRef[] = m.objects): boolean {
  return objects.some((o) => o.schema_fingerprint !== undefined && o.schema_fingerprint !== m.schema_fingerprint);
}

async function fileColumns(con: DuckDBConnection, file: string): Promise<Set<string>> {
  const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
  return new Set(r.getRowObjects().map((row) => String(row.column_name)));
}

/** `objects[i]` is stored at `files[i]`. */
export async function readObjectsSql(con: DuckDBConnection, m: StoredManifest, objects: ObjectRef[], files: string[]): Promise<string> {
  const list = (fs: string[]) => `read_parquet([${fs.map(sqlString).join(', ')}])`;
  if (!isEvolved(m, objects)) return `SELECT ${m.schema.map((c) => sqlIdent(c.name)).join(', ')} FROM ${list(files)}`;
  const runs: string[][] = [];
  let last: string | undefined;
  objects.forEach((o, i) => {
    const fp = o.schema_fingerprint ?? m.schema_fingerprint;
    if (fp !== last || !runs.length) runs.push([]);
    runs[runs.length - 1]!.push(files[i]!);
    last = fp;
  });
  const parts: string[] = [];
  for (const run of runs) {
    const has = await fileColumns(con, run[0]!);
    const cols = m.schema.map((c) => {
      const type = normalizeType(c.type) ?? 'VARCHAR';
      return `CAST(${has.has(c.name) ? sqlIdent(c.name) : 'NULL'} AS ${type}) AS ${sqlIdent(c.name)}`;
    });
    parts.push(`SELECT ${cols.join(', ')} FROM ${list(run)}`);
  }
  return parts.join('\nUNION ALL\n');
}
