/**
 * Orphan cleanup: deletes datasets/ objects that no manifest version references and that are
 * older than a grace period (an ingest in flight writes its Parquet before committing it).
 * A dataset with any unreadable version is left alone entirely: we cannot know what it references.
 */
import { deleteObjects, getObjectBytes, listAll } from '../storage/objects.js';
import { decodeManifest } from './codec.js';
import { listDatasetNames, listVersionKeys, loadCatalog, mapLimit } from './store.js';
import { pruneSnapshots, writeSnapshot } from './snapshot.js';
import { log } from '../log.js';

export interface GcReport {
  dry_run: boolean;
  grace_ms: number;
  scanned: number;
  referenced: number;
  orphans: Array<{ key: string; size: number; last_modified: string }>;
  deleted: number;
  skipped_datasets: Array<{ name: string; reason: string }>;
  snapshot?: string;
  pruned_snapshots?: number;
}

export async function collectGarbage(opts: { dryRun: boolean; graceMs: number; now?: number }): Promise<GcReport> {
  const now = opts.now ?? Date.now();
  const names = await listDatasetNames();
  const referenced = new Set<string>();
  const unsafe = new Set<string>();
  const skipped: GcReport['skipped_datasets'] = [];
  await mapLimit(names, 8, async (name) => {
    const versions = await listVersionKeys(name);
    await mapLimit(versions, 16, async (key) => {
      const bytes = await getObjectBytes(key);
      if (!bytes) return;
      try {
        const m = await decodeManifest(bytes, key);
        for (const o of m.objects) referenced.add(o.key);
      } catch {
        if (!unsafe.has(name)) skipped.push({ name, reason: `unreadable manifest ${key}` });
        unsafe.add(name);
      }
    });
  });
  const all = await listAll('datasets/');
  const orphans: GcReport['orphans'] = [];
  for (const o of all.objects) {
    const key = o.Key!;
    const dataset = key.split('/')[1] ?? '';
    if (referenced.has(key) || unsafe.has(dataset)) continue;
    const modified = o.LastModified?.getTime() ?? now;
    if (now - modified < opts.graceMs) continue;
    orphans.push({ key, size: o.Size ?? 0, last_modified: new Date(modified).toISOString() });
  }
  if (!opts.dryRun && orphans.length) await deleteObjects(orphans.map((o) => o.key));
  // a fresh, exact catalog snapshot for cold query engines; older ones pruned
  let snapshot: string | undefined;
  let prunedSnapshots = 0;
  if (!opts.dryRun) {
    const all = await loadCatalog(names);
    snapshot = await writeSnapshot(all.manifests);
    prunedSnapshots = await pruneSnapshots(3);
  }
  const report: GcReport = {
    dry_run: opts.dryRun,
    grace_ms: opts.graceMs,
    scanned: all.objects.length,
    referenced: referenced.size,
    orphans,
    deleted: opts.dryRun ? 0 : orphans.length,
    skipped_datasets: skipped,
    ...(snapshot ? { snapshot, pruned_snapshots: prunedSnapshots } : {}),
  };
  log.info('gc', { dry_run: opts.dryRun, scanned: report.scanned, orphans: orphans.length, skipped: skipped.length });
  return report;
}
