/**
 * Compaction (POST /catalog/compact, and the scheduled `compact` function): a dataset's small
 * objects rewritten by DuckDB into objects of about `targetBytes`, committed as one new version —
 * readers see the old objects or the new ones, never both. Rows keep their order (objects are read
 * in manifest order with insertion order preserved) and their values (each column is written with
 * the dataset's type, read exactly as the query view reads it: read-sql.ts). The old objects stay for the versions
 * that reference them (time travel) and GC.
 *
 * Concurrency: the commit is decided on the newest head. Objects appended meanwhile are kept after
 * the compacted ones; if any compacted object is no longer in the head (a replace, a drop, another
 * compaction), nothing is committed (`409 compaction_conflict`) and the new objects are left to GC.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config.js';
import { createInstance, sqlIdent, sqlString } from '../duckdb.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { log } from '../log.js';
import { normalizeName } from '../names.js';
import { keys } from '../storage/keys.js';
import { downloadToFile, uploadFile } from '../storage/objects.js';
import type { ObjectRef, StoredManifest } from './manifest.js';
import { readObjectsSql } from './read-sql.js';
import { parquetFileStats, type ColumnStats } from './stats.js';
import { duckdbFieldIds } from '../iceberg/schema.js';
import { commit, loadCatalog, mapLimit, readHead, type Decision } from './store.js';

export const DEFAULT_TARGET_BYTES = 256 * 1024 * 1024;
const MIN_TARGET = 1024;
const MAX_TARGET = 1024 * 1024 * 1024;

export interface CompactResult {
  name: string;
  /** The version committed, or the current one when there was nothing to do. */
  version: number;
  objects_before: number;
  objects_after: number;
  bytes_before: number;
  bytes_after: number;
  /** Objects rewritten (0: nothing to do, no version written). */
  compacted: number;
}

export function parseCompactRequest(body: unknown): { name: string; targetBytes: number } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid_request', 'The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const name = normalizeName(b.name);
  let targetBytes = DEFAULT_TARGET_BYTES;
  if (b.target_bytes !== undefined && b.target_bytes !== null) {
    if (typeof b.target_bytes !== 'number' || !Number.isSafeInteger(b.target_bytes) || b.target_bytes < MIN_TARGET || b.target_bytes > MAX_TARGET) {
      throw badRequest('invalid_request', `target_bytes must be an integer from ${MIN_TARGET} to ${MAX_TARGET}.`);
    }
    targetBytes = b.target_bytes;
  }
  return { name, targetBytes };
}

/** Consecutive runs of objects, each run up to `target` bytes; runs of one object are left alone. */
export function planBins(objects: ObjectRef[], target: number): ObjectRef[][] {
  const bins: ObjectRef[][] = [];
  let cur: ObjectRef[] = [];
  let bytes = 0;
  const flush = () => {
    if (cur.length > 1) bins.push(cur);
    cur = [];
    bytes = 0;
  };
  for (const o of objects) {
    if (o.size >= target) {
      flush();
      continue;
    }
    if (bytes + o.size > target && cur.length) flush();
    cur.push(o);
    bytes += o.size;
  }
  flush();
  return bins;
}

/** The bin's rows, in order, as one Parquet file with the dataset's column types. */
async function rewrite(m: StoredManifest, objects: ObjectRef[], files: string[], out: string): Promise<{ rows: number; stats: ColumnStats[] }> {
  const db = await createInstance('compact', { preserve_insertion_order: 'true' });
  const con = await db.connect();
  try {
    // Iceberg field ids as the ingest writes them (the dataset's column positions)
    const ids = duckdbFieldIds(m.schema, sqlIdent);
    const r = await con.run(
      `COPY (${await readObjectsSql(con, m, objects, files)}) ` +
        `TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880${ids ? `, FIELD_IDS ${ids}` : ''})`,
    );
    return { rows: Number(r.rowsChanged), stats: await parquetFileStats(con, out, m.schema) };
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

export async function compactDataset(rawName: string, targetBytes = DEFAULT_TARGET_BYTES): Promise<CompactResult> {
  const name = normalizeName(rawName);
  const head = await readHead(name);
  if (!head) throw notFound(`Dataset "${name}" does not exist.`);
  const before = { objects_before: head.objects.length, bytes_before: head.objects.reduce((n, o) => n + o.size, 0) };
  const bins = planBins(head.objects, targetBytes);
  if (!bins.length) {
    return { name, version: head.version, ...before, objects_after: head.objects.length, bytes_after: before.bytes_before, compacted: 0 };
  }
  const id = crypto.randomUUID();
  fs.mkdirSync(config().tmpDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(config().tmpDir, 'compact-'));
  const replaced = new Map<string, ObjectRef>(); // first key of a bin → its new object
  const gone = new Set<string>();
  try {
    let part = 0;
    for (const bin of bins) {
      const files = await mapLimit(bin, 8, async (o) => {
        const f = path.join(dir, `${crypto.randomUUID()}.parquet`);
        await downloadToFile(o.key, f);
        return f;
      });
      const out = path.join(dir, `out-${part}.parquet`);
      const { rows, stats } = await rewrite(head, bin, files, out);
      const expected = bin.reduce((n, o) => (n === null || o.row_count === null ? null : n + o.row_count), 0 as number | null);
      if (expected !== null && rows !== expected) {
        throw new Error(`compaction read ${rows} rows where the manifest lists ${expected}`);
      }
      const key = keys.compactedObject(name, head.schema_fingerprint, id, part++);
      await uploadFile(key, out, 'application/vnd.apache.parquet');
      replaced.set(bin[0]!.key, { key, size: fs.statSync(out).size, row_count: rows, stats });
      for (const o of bin) gone.add(o.key);
      for (const f of files) fs.rmSync(f, { force: true });
      fs.rmSync(out, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const result = await commit(name, (cur): Decision => {
    const keysNow = new Set(cur?.objects.map((o) => o.key));
    if (!cur || cur.dataset_id !== head.dataset_id || [...gone].some((k) => !keysNow.has(k))) {
      throw conflict('compaction_conflict', `Dataset "${name}" changed while it was compacted (replaced, dropped or compacted again); nothing was committed.`, { name });
    }
    const objects: ObjectRef[] = [];
    for (const o of cur.objects) {
      const fresh = replaced.get(o.key);
      // written with the schema of the head it read; named if the dataset evolved meanwhile
      if (fresh) objects.push(head.schema_fingerprint !== cur.schema_fingerprint ? { ...fresh, schema_fingerprint: head.schema_fingerprint } : fresh);
      else if (!gone.has(o.key)) objects.push(o);
    }
    const { version: _v, schema_changes: _c, ...rest } = cur;
    return {
      kind: 'write',
      next: { ...rest, objects, updated_at: new Date(Math.max(Date.now(), Date.parse(cur.updated_at) + 1)).toISOString(), commit_id: `compact:${id}`, mode: 'compact' },
    };
  });
  const m = result.manifest;
  log.info('compact', { dataset: name, version: m.version, objects_before: before.objects_before, objects_after: m.objects.length });
  return { name, version: m.version, ...before, objects_after: m.objects.length, bytes_after: m.objects.reduce((n, o) => n + o.size, 0), compacted: gone.size };
}

/** The scheduled run: every dataset with at least `minObjects` objects that has something to compact. */
export async function compactAll(opts: { minObjects: number; targetBytes: number }): Promise<{ compacted: CompactResult[]; errors: Array<{ name: string; code: string; message: string }> }> {
  const catalog = await loadCatalog();
  const compacted: CompactResult[] = [];
  const errors: Array<{ name: string; code: string; message: string }> = [];
  for (const m of catalog.manifests) {
    if (m.objects.length < opts.minObjects || !planBins(m.objects, opts.targetBytes).length) continue;
    try {
      compacted.push(await compactDataset(m.name, opts.targetBytes));
    } catch (e) {
      const err = e as { code?: string; message?: string };
      errors.push({ name: m.name, code: err.code ?? 'internal', message: err.code ? String(err.message) : 'compaction failed' });
      log.error('compact: dataset failed', { dataset: m.name, err: e });
    }
  }
  return { compacted, errors };
}
