/**
 * The catalog as a cold engine needs it: the newest snapshot (one LIST + one GET) plus, read one by
 * one, the datasets created since. Versions newer than the snapshot are picked up by the per-query
 * probe. Without a snapshot, or when it missed datasets, the engine writes the snapshot of the state
 * it loaded for the next cold start — once per state: its key is the state's (snapshot.ts
 * `writeSnapshotOnce`), and of the engines of one machine only the one holding the local claim
 * tries (the others would only find it written).
 */
import { listDatasetNames, loadCatalog, type LoadResult } from '../catalog/store.js';
import { readLatestSnapshot, stateSnapshotKey, writeSnapshotOnce } from '../catalog/snapshot.js';
import type { StoredManifest } from '../catalog/manifest.js';
import { log } from '../log.js';
import type { ObjectCache } from './cache.js';

/** For tests: the snapshot writes cold engines have started and not finished. */
export const snapshotWrites = new Set<Promise<void>>();

export async function loadForEngine(cache: ObjectCache): Promise<LoadResult> {
  const [snap, names] = await Promise.all([
    readLatestSnapshot().catch((e) => {
      log.warn('query engine: snapshot not read', { err: e });
      return undefined;
    }),
    listDatasetNames(),
  ]);
  const have = new Map((snap?.manifests ?? []).map((m) => [m.name, m]));
  const missing = names.filter((n) => !have.has(n));
  const rest = missing.length ? await loadCatalog(missing) : { manifests: [], errors: [] };
  const manifests = [...names.filter((n) => have.has(n)).map((n) => have.get(n)!), ...rest.manifests];
  if (!snap || rest.manifests.length > 0) {
    const write = saveSnapshot(cache, manifests, snap?.key).finally(() => snapshotWrites.delete(write));
    snapshotWrites.add(write);
  }
  return { manifests, errors: rest.errors };
}

/** Writes the state's snapshot in the background, unless it is the one just read or another engine here is writing it. */
async function saveSnapshot(cache: ObjectCache, manifests: StoredManifest[], readKey: string | undefined): Promise<void> {
  const key = stateSnapshotKey(manifests);
  if (key === readKey) return;
  const claim = cache.claim(`snapshot-${key.slice(key.lastIndexOf('/') + 1)}`);
  if (!claim) return;
  try {
    const r = await writeSnapshotOnce(manifests);
    if (r.written) log.info('query engine: catalog snapshot written', { key: r.key, datasets: manifests.length });
    else log.debug('query engine: catalog snapshot exists', { key: r.key });
  } catch (e) {
    log.warn('query engine: snapshot not written', { err: e });
  } finally {
    claim.release();
  }
}
