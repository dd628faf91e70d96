/**
 * Catalog snapshots: every dataset's head manifest in one Parquet file, so listing the catalog
 * reads one object plus what changed since (lib/catalog/listing.ts, docs/adr/0012-catalog-listing.md).
 *
 *   _catalog/snapshots/<999999999999999 - watermark, 15 digits>-w<state>.parquet     watermarked
 *   _catalog/snapshots/<999999999999999 - epoch ms, 15 digits>-<hex>.parquet         older plain ones (ignored)
 *
 * A watermarked snapshot reflects every commit whose change marker is older than its watermark
 * minus the listing margin; it also holds tombstones (a dropped name's last version) and, in its
 * key-value metadata, the entries found unreadable. Its key is derived from the catalog state it
 * holds and it is put create-once, so one state gets one snapshot whatever the number of writers
 * (where the store ignores If-None-Match, a second put writes the same state under the same key).
 * No snapshot is ever overwritten; the GC keeps the newest few, and the newest watermarked one.
 * Query engines read none (they load the datasets a query names, lib/query/engine.ts).
 */
import crypto from 'node:crypto';
import { deleteObjects, getObjectBytes, isConditionalConflict, isPreconditionFailed, listAll, putObject, storageError } from '../storage/objects.js';
import { keys, parseSnapshotKeyKind, PREFIX } from '../storage/keys.js';
import { decodeKeyValueMetadata, decodeManifestIndex, decodeManifests, encodeManifests, CorruptManifestError } from './codec.js';
import type { StoredManifest } from './manifest.js';
import { log } from '../log.js';

export const SNAPSHOT_PREFIX = PREFIX.snapshots;

/** A unique snapshot key taken at `at` (tests: a snapshot no catalog state names). */
export function snapshotKey(at = Date.now()): string {
  return keys.snapshot(at, crypto.randomBytes(4).toString('hex'));
}

/** An entry a watermarked snapshot found unreadable (reported by every listing until it changes). */
export interface SnapshotError {
  name: string;
  version: number;
  code: string;
  message: string;
}

export interface WatermarkedSnapshot {
  key: string;
  watermark: number;
  /** Every entry's name, version and whether it is a tombstone, by name; `row` is its row in the file. */
  index: Array<{ name: string; version: number; dropped: boolean; row: number }>;
  errors: SnapshotError[];
  /** The manifests of these rows, decoded on demand (a page decodes its rows only) and kept. */
  rows(rows: number[]): Promise<StoredManifest[]>;
}

const ERRORS_META = 'lakehouse.errors';
/** Rows per row group: a page of the listing decodes one or two groups, not the whole file. */
const ROW_GROUP = 256;

/** How many snapshot keys a listing looks through for the newest watermarked one (plain ones are newer when engines wrote them). */
const LOOK_BACK = 50;

/** The key of the newest watermarked snapshot (one LIST), or undefined. */
export async function latestWatermarkedKey(): Promise<string | undefined> {
  const r = await listAll(SNAPSHOT_PREFIX, { limit: LOOK_BACK, pageSize: LOOK_BACK });
  return r.objects.map((o) => o.Key!).find((k) => parseSnapshotKeyKind(k)?.watermarked);
}

/** Reads a watermarked snapshot's index; undefined when it is gone (pruned) or unreadable (logged). */
export async function readWatermarkedSnapshot(key: string): Promise<WatermarkedSnapshot | undefined> {
  const kind = parseSnapshotKeyKind(key);
  const bytes = await getObjectBytes(key);
  if (!bytes || !kind?.watermarked) return undefined;
  try {
    const index = (await decodeManifestIndex(bytes, key)).map((e, row) => ({ name: e.name, version: e.version, dropped: e.mode === 'drop', row }));
    index.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const raw = decodeKeyValueMetadata(bytes)[ERRORS_META];
    const errors = raw ? (JSON.parse(raw) as SnapshotError[]) : [];
    const decoded = new Map<number, StoredManifest>();
    const rows = async (want: number[]) => {
      const missing = want.filter((r) => !decoded.has(r));
      if (missing.length) {
        const start = Math.min(...missing);
        const end = Math.max(...missing) + 1;
        const got = await decodeManifests(bytes, key, undefined, { start, end });
        got.forEach((m, i) => decoded.set(start + i, m));
      }
      return want.map((r) => decoded.get(r)!);
    };
    return { key, watermark: kind.at, index, errors, rows };
  } catch (e) {
    if (e instanceof CorruptManifestError || e instanceof SyntaxError) {
      log.error('watermarked catalog snapshot unreadable; the listing rebuilds it', { key, detail: e.message });
      return undefined;
    }
    throw e;
  }
}

/**
 * Writes a watermarked snapshot, create-once: its key is the watermark and a hash of the state, so
 * concurrent writers of one state write one object (a 412/409 means it is already there).
 */
export async function writeWatermarkedSnapshot(watermark: number, entries: StoredManifest[], errors: SnapshotError[]): Promise<string> {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const state = crypto.createHash('sha256');
  for (const m of sorted) state.update(`${m.name}\x1f${m.version}\x1f${m.commit_id}\x1e`);
  for (const e of errors) state.update(`!${e.name}\x1f${e.version}\x1e`);
  const progress = sorted.reduce((n, m) => n + m.version, 0) + errors.reduce((n, e) => n + e.version, 0);
  const key = keys.watermarkedSnapshot(watermark, progress, state.digest('hex').slice(0, 16));
  const inline = sorted.map(({ segments: _s, ...m }) => m);
  const body = await encodeManifests(inline, { [ERRORS_META]: JSON.stringify(errors) }, ROW_GROUP);
  try {
    await putObject(key, body, { ifNoneMatch: true, contentType: 'application/vnd.apache.parquet' });
  } catch (e) {
    if (!isPreconditionFailed(e) && !isConditionalConflict(e)) throw storageError('catalog snapshot', e);
  }
  return key;
}

/** Deletes all but the newest `keep` snapshots, never the newest watermarked one. */
export async function pruneSnapshots(keep = 3): Promise<number> {
  const all = (await listAll(SNAPSHOT_PREFIX)).objects.map((o) => o.Key!);
  const newestWatermarked = all.find((k) => parseSnapshotKeyKind(k)?.watermarked);
  const old = all.slice(keep).filter((k) => k !== newestWatermarked);
  if (old.length) await deleteObjects(old);
  return old.length;
}
