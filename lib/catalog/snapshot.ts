/**
 * Catalog snapshots: every dataset's manifest in one Parquet file, so a cold query engine reads
 * one object instead of two requests per dataset. A snapshot is a hint, never the truth: the
 * engine lists the dataset names too (datasets newer than the snapshot are read individually),
 * and every query probes each dataset it uses for a newer version (lib/query/engine.ts).
 *
 *   _catalog/snapshots/<999999999999999 - epoch ms, 15 digits>-<random>.parquet   newest first
 *
 * Names are unique, so no snapshot is ever overwritten; the GC keeps the newest few.
 */
import crypto from 'node:crypto';
import { deleteObjects, firstKey, getObjectBytes, listAll, putObject } from '../storage/objects.js';
import { keys, parseSnapshotKey, PREFIX } from '../storage/keys.js';
import { decodeManifests, encodeManifests, CorruptManifestError } from './codec.js';
import type { StoredManifest } from './manifest.js';
import { log } from '../log.js';

export const SNAPSHOT_PREFIX = PREFIX.snapshots;

export function snapshotKey(at = Date.now()): string {
  return keys.snapshot(at, crypto.randomBytes(4).toString('hex'));
}

export function snapshotTime(key: string): number | undefined {
  return parseSnapshotKey(key);
}

export interface Snapshot {
  key: string;
  takenAt: number;
  manifests: StoredManifest[];
}

/** The newest readable snapshot, or undefined (an unreadable one is logged and ignored). */
export async function readLatestSnapshot(): Promise<Snapshot | undefined> {
  const key = await firstKey(SNAPSHOT_PREFIX);
  if (!key) return undefined;
  const takenAt = snapshotTime(key);
  const bytes = await getObjectBytes(key);
  if (!bytes || takenAt === undefined) return undefined;
  try {
    return { key, takenAt, manifests: await decodeManifests(bytes, key) };
  } catch (e) {
    if (e instanceof CorruptManifestError) {
      log.error('catalog snapshot unreadable; loading datasets one by one', { key, detail: e.message });
      return undefined;
    }
    throw e;
  }
}

export async function writeSnapshot(manifests: StoredManifest[]): Promise<string> {
  const key = snapshotKey();
  // objects inline (no segment references): a cold engine reads the snapshot with one GET
  const inline = manifests.map(({ segments: _s, ...m }) => m);
  await putObject(key, await encodeManifests(inline), { contentType: 'application/vnd.apache.parquet' });
  return key;
}

/** Deletes all but the newest `keep` snapshots. */
export async function pruneSnapshots(keep = 3): Promise<number> {
  const all = await listAll(SNAPSHOT_PREFIX);
  const old = all.objects.map((o) => o.Key!).slice(keep);
  if (old.length) await deleteObjects(old);
  return old.length;
}
