/**
 * Orphan cleanup: deletes datasets/ objects that no manifest version references and that are
 * older than a grace period (an ingest in flight writes its Parquet before committing it). The
 * versions of a dropped dataset stop counting a grace period after the drop.
 * A dataset with any unreadable version is left alone entirely: we cannot know what it references.
 *
 * Safe against concurrent commits: a register or ingest can commit a reference to an object that
 * is already old (a retried ingest, a register of an existing file) while the GC runs. So after
 * choosing the candidates, and right before deleting, the GC lists every dataset's versions again
 * and reads each version it had not seen (any version created after its scan began, including
 * datasets created since): an object any of them references is kept. Ages are measured on the
 * store's clock (LastModified is the store's time).
 */
import { deleteObjects, getObjectBytes, listAll } from '../storage/objects.js';
import { isIcebergMetadataKey, parseDatasetObjectKey, parseSnapshotKeyKind, PREFIX } from '../storage/keys.js';
import { storeNow } from '../storage/clock.js';
import { decodeManifest } from './codec.js';
import { isDropped, type ObjectRef } from './manifest.js';
import { resolveSegments } from './segments.js';
import { listDatasetNames, listVersions, mapLimit } from './store.js';
import { pruneSnapshots } from './snapshot.js';
import { rebuildCatalogState } from './listing.js';
import { pruneChanges } from './changes.js';
import { log } from '../log.js';

/** Change markers kept behind the newest watermarked snapshot (a listing that read an older one still finds its markers). */
const CHANGES_KEPT_MS = 24 * 3600_000;

export interface GcReport {
  dry_run: boolean;
  grace_ms: number;
  scanned: number;
  referenced: number;
  orphans: Array<{ key: string; size: number; last_modified: string }>;
  deleted: number;
  /** Candidates kept because a version committed during the run references them. */
  rescued: string[];
  skipped_datasets: Array<{ name: string; reason: string }>;
  snapshot?: string;
  pruned_snapshots?: number;
}

export interface GcOptions {
  dryRun: boolean;
  graceMs: number;
  /** The store's time to measure ages against (default: the store's clock). */
  now?: number;
}

interface VersionRefs {
  version: number;
  keys: string[];
  /** A drop's tombstone: when it was written (the store's time). */
  droppedAt?: number;
}

interface Scan {
  /** Every version key read, per dataset. */
  seen: Map<string, Set<string>>;
  versions: Map<string, VersionRefs[]>;
  /** Catalog segments read so far (versions share them). */
  segments: Map<string, ObjectRef[]>;
  referenced: Set<string>;
  unsafe: Set<string>;
  skipped: GcReport['skipped_datasets'];
}

/** Reads every version of the given datasets not in `scan.seen`, then recomputes `scan.referenced`. */
async function scanVersions(names: string[], scan: Scan, now: number, graceMs: number): Promise<void> {
  await mapLimit(names, 8, async (name) => {
    const seen = scan.seen.get(name) ?? new Set<string>();
    scan.seen.set(name, seen);
    const refs = scan.versions.get(name) ?? [];
    scan.versions.set(name, refs);
    const versions = (await listVersions(name)).filter((v) => !seen.has(v.key));
    await mapLimit(versions, 16, async ({ key, writtenAt }) => {
      const bytes = await getObjectBytes(key);
      seen.add(key);
      if (!bytes) return;
      try {
        const m = await resolveSegments(await decodeManifest(bytes, key), scan.segments);
        // a drop's time on the store's clock (the one ages are measured on), not the writer's
        const droppedAt = isDropped(m) ? (writtenAt ?? Date.parse(m.updated_at)) : undefined;
        refs.push({ version: m.version, keys: m.objects.map((o) => o.key), ...(droppedAt !== undefined ? { droppedAt } : {}) });
      } catch {
        if (!scan.unsafe.has(name)) scan.skipped.push({ name, reason: `unreadable manifest ${key}` });
        scan.unsafe.add(name);
      }
    });
  });
  scan.referenced = referencedKeys(scan.versions, now, graceMs);
}

/**
 * Every object some version references, except the versions up to a drop whose tombstone is past
 * the grace period: what only a dropped dataset referenced becomes garbage a grace period after the drop.
 */
function referencedKeys(all: Map<string, VersionRefs[]>, now: number, graceMs: number): Set<string> {
  const referenced = new Set<string>();
  for (const refs of all.values()) {
    let deadUpTo = 0;
    for (const r of refs) if (r.droppedAt !== undefined && now - r.droppedAt >= graceMs) deadUpTo = Math.max(deadUpTo, r.version);
    for (const r of refs) if (r.version > deadUpTo) for (const k of r.keys) referenced.add(k);
  }
  return referenced;
}

export async function collectGarbage(opts: GcOptions): Promise<GcReport> {
  const scan: Scan = { seen: new Map(), versions: new Map(), segments: new Map(), referenced: new Set(), unsafe: new Set(), skipped: [] };
  const now = opts.now ?? storeNow();
  const names = await listDatasetNames();
  await scanVersions(names, scan, now, opts.graceMs);

  const all = await listAll(PREFIX.datasets);
  let candidates: GcReport['orphans'] = [];
  for (const o of all.objects) {
    const key = o.Key!;
    const dataset = parseDatasetObjectKey(key)?.name ?? '';
    // Iceberg metadata lives beside the data but is no data object (docs/adr/0010-iceberg-tables.md)
    if (isIcebergMetadataKey(key)) continue;
    if (scan.referenced.has(key) || scan.unsafe.has(dataset)) continue;
    const modified = o.LastModified?.getTime() ?? now;
    if (now - modified < opts.graceMs) continue;
    candidates.push({ key, size: o.Size ?? 0, last_modified: new Date(modified).toISOString() });
  }

  // Re-read the heads: any version committed since the scan began (new datasets included).
  const rescued: string[] = [];
  if (candidates.length) {
    const namesNow = await listDatasetNames();
    await scanVersions([...new Set([...names, ...namesNow])], scan, now, opts.graceMs);
    candidates = candidates.filter((c) => {
      const keep = scan.referenced.has(c.key) || scan.unsafe.has(parseDatasetObjectKey(c.key)?.name ?? '');
      if (keep) rescued.push(c.key);
      return !keep;
    });
    if (rescued.length) log.info('gc: objects referenced by versions committed during the run are kept', { rescued });
  }
  if (!opts.dryRun && candidates.length) await deleteObjects(candidates.map((o) => o.key));

  // a fresh, exact catalog snapshot for cold query engines; older ones pruned
  let snapshot: string | undefined;
  let prunedSnapshots = 0;
  if (!opts.dryRun) {
    // every head read again: also catches an entry changed behind the catalog's back (ADR 0012)
    snapshot = (await rebuildCatalogState()).snapshot;
    prunedSnapshots = await pruneSnapshots(3);
    const watermark = snapshot ? parseSnapshotKeyKind(snapshot)?.at : undefined;
    if (watermark !== undefined) await pruneChanges(watermark - CHANGES_KEPT_MS);
  }
  const report: GcReport = {
    dry_run: opts.dryRun,
    grace_ms: opts.graceMs,
    scanned: all.objects.length,
    referenced: scan.referenced.size,
    orphans: candidates,
    deleted: opts.dryRun ? 0 : candidates.length,
    rescued,
    skipped_datasets: scan.skipped,
    ...(snapshot ? { snapshot, pruned_snapshots: prunedSnapshots } : {}),
  };
  log.info('gc', { dry_run: opts.dryRun, scanned: report.scanned, orphans: candidates.length, rescued: rescued.length, skipped: scan.skipped.length });
  return report;
}
