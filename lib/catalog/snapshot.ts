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
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3, bucket } from '../storage/client.js';
import { deleteObjects, getObjectBytes, listAll, putObject, storageError } from '../storage/objects.js';
import { decodeManifests, encodeManifests, CorruptManifestError } from './codec.js';
import type { StoredManifest } from './manifest.js';
import { log } from '../log.js';

export const SNAPSHOT_PREFIX = '_catalog/snapshots/';
const SPAN = 999_999_999_999_999;

export function snapshotKey(at = Date.now()): string {
  return `${SNAPSHOT_PREFIX}${String(SPAN - at).padStart(15, '0')}-${crypto.randomBytes(4).toString('hex')}.parquet`;
}

export function snapshotTime(key: string): number | undefined {
  const m = /^(\d{15})-[0-9a-f]+\.parquet$/.exec(key.slice(SNAPSHOT_PREFIX.length));
  return m ? SPAN - Number(m[1]) : undefined;
}

export interface Snapshot {
  key: string;
  takenAt: number;
  manifests: StoredManifest[];
}

/** The newest readable snapshot, or undefined (an unreadable one is logged and ignored). */
export async function readLatestSnapshot(): Promise<Snapshot | undefined> {
  let key: string | undefined;
  try {
    const r = await s3().send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: SNAPSHOT_PREFIX, MaxKeys: 1 }));
    key = r.Contents?.[0]?.Key;
  } catch (e) {
    throw storageError('LIST', e);
  }
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
  await putObject(key, await encodeManifests(manifests), { contentType: 'application/vnd.apache.parquet' });
  return key;
}

/** Deletes all but the newest `keep` snapshots. */
export async function pruneSnapshots(keep = 3): Promise<number> {
  const all = await listAll(SNAPSHOT_PREFIX);
  const old = all.objects.map((o) => o.Key!).slice(keep);
  if (old.length) await deleteObjects(old);
  return old.length;
}
