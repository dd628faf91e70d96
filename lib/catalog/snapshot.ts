/**
 * Catalog snapshots: every dataset's manifest in one Parquet file, so a cold query engine reads
 * one object instead of two requests per dataset. A snapshot is a hint, never the truth: the
 * engine lists the dataset names too (datasets newer than the snapshot are read individually),
 * and every query probes each dataset it uses for a newer version (lib/query/engine.ts).
 *
 *   _catalog/snapshots/<999999999999999 - epoch ms, 15 digits>-<state hash>.parquet   newest first
 *
 * One catalog state, one key: the time is the state's newest commit (`updated_at`), the suffix a
 * hash of every dataset's (name, id, version). So the engines that cold-start at once on one state
 * (32 concurrent requests locally, 32 Lambda containers on AWS) all name the same snapshot, and
 * `writeSnapshotOnce` writes it once: a HEAD first (written already: skip), then a create-only PUT
 * (If-None-Match) where the store honours it, else the bakery lock around HEAD + PUT (ADR 0013).
 * No snapshot is ever overwritten; the GC keeps the newest few.
 */
import crypto from 'node:crypto';
import { deleteObjects, firstKey, getObjectBytes, headObject, isConditionalConflict, isPreconditionFailed, listAll, putObject } from '../storage/objects.js';
import { conditionalWritesSupported } from '../storage/conditional.js';
import { LockLostError, withLock } from '../storage/lock.js';
import { keys, parseSnapshotKey, PREFIX } from '../storage/keys.js';
import { decodeManifests, encodeManifests, CorruptManifestError } from './codec.js';
import type { StoredManifest } from './manifest.js';
import { log } from '../log.js';

export const SNAPSHOT_PREFIX = PREFIX.snapshots;

/** A unique snapshot key taken at `at` (tests: a snapshot no catalog state names). */
export function snapshotKey(at = Date.now()): string {
  return keys.snapshot(at, crypto.randomBytes(4).toString('hex'));
}

/** The key of the snapshot of exactly this catalog state: the same for every writer that sees it. */
export function stateSnapshotKey(manifests: StoredManifest[]): string {
  const lines = manifests.map((m) => `${m.name}\t${m.dataset_id}\t${m.version}`).sort();
  const hash = crypto.createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
  const newest = manifests.reduce((t, m) => Math.max(t, Date.parse(m.updated_at) || 0), 0);
  return keys.snapshot(newest, hash);
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

export interface SnapshotWrite {
  key: string;
  /** False when the state's snapshot existed already (or another writer created it meanwhile). */
  written: boolean;
}

/** Writes the snapshot of this catalog state unless it exists: one write per state, whatever the number of writers. */
export async function writeSnapshotOnce(manifests: StoredManifest[]): Promise<SnapshotWrite> {
  const key = stateSnapshotKey(manifests);
  if (await headObject(key)) return { key, written: false };
  // objects inline (no segment references): a cold engine reads the snapshot with one GET
  const inline = manifests.map(({ segments: _s, ...m }) => m);
  const body = await encodeManifests(inline);
  const contentType = 'application/vnd.apache.parquet';
  if (await conditionalWritesSupported()) {
    try {
      await putObject(key, body, { contentType, ifNoneMatch: true });
      return { key, written: true };
    } catch (e) {
      if (isPreconditionFailed(e) || isConditionalConflict(e)) return { key, written: false };
      throw e;
    }
  }
  try {
    return await withLock(
      `snapshot/${key.slice(key.lastIndexOf('-') + 1, -'.parquet'.length)}`,
      async (guard) => {
        if (await headObject(key)) return { key, written: false };
        guard.check();
        await putObject(key, body, { contentType });
        return { key, written: true };
      },
      { leaseMs: 10_000, waitMs: 5_000 },
    );
  } catch (e) {
    // another writer held the lock all along: it writes this very snapshot
    if (e instanceof LockLostError) return { key, written: false };
    throw e;
  }
}

/** The snapshot of this catalog state (written unless it exists); returns its key. */
export async function writeSnapshot(manifests: StoredManifest[]): Promise<string> {
  return (await writeSnapshotOnce(manifests)).key;
}

/** Deletes all but the newest `keep` snapshots. */
export async function pruneSnapshots(keep = 3): Promise<number> {
  const all = await listAll(SNAPSHOT_PREFIX);
  const old = all.objects.map((o) => o.Key!).slice(keep);
  if (old.length) await deleteObjects(old);
  return old.length;
}
