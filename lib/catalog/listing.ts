/**
 * The catalog's current state at O(1) requests plus what changed (docs/adr/0012-catalog-listing.md):
 *
 *   1. LIST the snapshots → the newest watermarked one (GET it, or take it from memory: it is immutable);
 *   2. LIST the change markers newer than its watermark − MARGIN_MS (in parallel with the GET);
 *   3. for each dataset a marker names at a version the snapshot does not have: GET that version
 *      (a tombstone removes the dataset; an unreadable one becomes an `errors` entry);
 *   4. when that took many reads, write a new watermarked snapshot (create-once) so the next
 *      listing is cheap again.
 *
 * Without a watermarked snapshot (a bucket from before markers existed) the state is built in
 * full — every name, every head — and written as the first one; the GC does the same daily.
 * Why nothing is lost: every version is reflected in the snapshot or has a marker newer than the
 * snapshot's watermark − MARGIN_MS, because a snapshot's watermark is taken before the reads that
 * built it, and a marker is written after its version and is durable within LATE_MS of its time.
 */
import { storeNow } from '../storage/clock.js';
import { parseSnapshotKeyKind, parseVersionKey } from '../storage/keys.js';
import { changesSince, MARGIN_MS, WATERMARK_STEP_MS } from './changes.js';
import { latestWatermarkedKey, readWatermarkedSnapshot, writeWatermarkedSnapshot, type SnapshotError, type WatermarkedSnapshot } from './snapshot.js';
import { CatalogCorruptError, listDatasetNames, mapLimit, readHeadVersion, readVersion } from './store.js';
import { isDropped, type StoredManifest } from './manifest.js';
import { log } from '../log.js';

/**
 * Version reads past which a listing writes a new snapshot; also past 16× as many markers listed,
 * or 2× as many when the snapshot's watermark is more than MARGIN_MS old (a new one would list fewer).
 */
export const SNAPSHOT_AFTER_READS = 64;

export interface CatalogState {
  /** Live datasets, by name. */
  manifests: StoredManifest[];
  /** Datasets whose current entry is unreadable (skipped), by name. */
  errors: Array<{ name: string; code: string; message: string }>;
  /** The watermarked snapshot the state was built on (or written from it). */
  snapshot: string | undefined;
  /** Markers read and versions fetched on top of the snapshot. */
  changes: number;
  reads: number;
}

/** The state before the manifests are decoded: names first, manifests for the names asked. */
export interface CatalogIndex extends Omit<CatalogState, 'manifests'> {
  /** Live dataset names, sorted. */
  names: string[];
  manifests(names: string[]): Promise<StoredManifest[]>;
}

/** A name's entry: from the snapshot (row, decoded on demand), a version read, or an unreadable one. */
type Entry =
  | { version: number; dropped: boolean; row: number }
  | { version: number; dropped: boolean; manifest: StoredManifest }
  | { version: number; dropped: false; error: SnapshotError };

/** The newest snapshot decoded, by key (snapshots never change, so a warm process reuses it). */
let memo: WatermarkedSnapshot | undefined;

async function snapshotFor(key: string): Promise<WatermarkedSnapshot | undefined> {
  if (memo?.key === key) return memo;
  const s = await readWatermarkedSnapshot(key);
  if (s) memo = s;
  return s;
}

const watermarkOf = (t: number) => Math.floor(t / WATERMARK_STEP_MS) * WATERMARK_STEP_MS;

function toEntry(name: string, version: number, read: () => Promise<StoredManifest | undefined>): Promise<Entry | undefined> {
  return read().then(
    (m) => (m ? { version: m.version, dropped: isDropped(m), manifest: m } : undefined),
    (e: unknown) => {
      if (e instanceof CatalogCorruptError) {
        // the unreadable version's number, from its key (a head read does not know it beforehand)
        const v = parseVersionKey(name, String(e.details?.key ?? '')) ?? version;
        return { version: v, dropped: false as const, error: { name, version: v, code: e.code, message: e.message } };
      }
      throw e;
    },
  );
}

function indexFrom(entries: Map<string, Entry>, snap: WatermarkedSnapshot | undefined, snapshot: string | undefined, changes: number, reads: number): CatalogIndex {
  const sorted = [...entries.keys()].sort();
  const names: string[] = [];
  const errors: CatalogState['errors'] = [];
  for (const n of sorted) {
    const e = entries.get(n)!;
    if ('error' in e) errors.push({ name: n, code: e.error.code, message: e.error.message });
    else if (!e.dropped) names.push(n);
  }
  const manifests = async (want: string[]) => {
    const rows = want.flatMap((n) => {
      const e = entries.get(n);
      return e && 'row' in e ? [e.row] : [];
    });
    const fromSnap = new Map((rows.length ? await snap!.rows(rows) : []).map((m) => [m.name, m]));
    return want.flatMap((n) => {
      const e = entries.get(n);
      const m = e && 'manifest' in e ? e.manifest : fromSnap.get(n);
      return m ? [m] : [];
    });
  };
  return { names, errors, manifests, snapshot, changes, reads };
}

async function save(watermark: number, entries: Map<string, Entry>, snap: WatermarkedSnapshot | undefined): Promise<string | undefined> {
  const list = [...entries.values()];
  const rows = list.flatMap((e) => ('row' in e ? [e.row] : []));
  const manifests = [...(rows.length ? await snap!.rows(rows) : []), ...list.flatMap((e) => ('manifest' in e ? [e.manifest] : []))];
  const errors = list.flatMap((e) => ('error' in e ? [e.error] : []));
  try {
    return await writeWatermarkedSnapshot(watermark, manifests, errors);
  } catch (e) {
    log.warn('catalog listing: snapshot not written', { err: e });
    return undefined;
  }
}

async function full(index: CatalogIndex): Promise<CatalogState> {
  const { names, manifests, ...rest } = index;
  return { ...rest, manifests: await manifests(names) };
}

/**
 * Every name's head read one by one (2 requests per dataset), written as a watermarked snapshot.
 * The watermark is the store's time before the names are listed.
 */
export async function rebuildCatalogState(): Promise<CatalogState> {
  return full(await rebuildIndex());
}

async function rebuildIndex(): Promise<CatalogIndex> {
  await latestWatermarkedKey(); // one response first, so the store's clock is set
  const watermark = watermarkOf(storeNow());
  const names = await listDatasetNames();
  const entries = new Map<string, Entry>();
  await mapLimit(names, 32, async (name) => {
    const e = await toEntry(name, 0, () => readHeadVersion(name));
    if (e) entries.set(name, e);
  });
  const key = await save(watermark, entries, undefined);
  log.info('catalog state rebuilt', { datasets: entries.size, snapshot: key });
  return indexFrom(entries, undefined, key, 0, names.length);
}

/** The catalog as of now: the newest watermarked snapshot plus the changes since (see above). */
export async function catalogState(): Promise<CatalogState> {
  return full(await catalogIndex());
}

/** As catalogState, with the manifests decoded only for the names asked (a page). */
export async function catalogIndex(): Promise<CatalogIndex> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const key = await latestWatermarkedKey();
    if (!key) return rebuildIndex();
    const listedAt = storeNow(); // after a response: the store's clock; before the markers are listed
    const since = parseSnapshotKeyKind(key)!.at - MARGIN_MS;
    const [snap, changes] = await Promise.all([snapshotFor(key), changesSince(since)]);
    if (!snap) continue; // pruned or unreadable meanwhile: look again (an unreadable one: rebuilt below)
    const entries = new Map<string, Entry>();
    for (const e of snap.index) entries.set(e.name, { version: e.version, dropped: e.dropped, row: e.row });
    for (const e of snap.errors) entries.set(e.name, { version: e.version, dropped: false, error: e });
    // the newest version each changed dataset reached, when the snapshot does not have it
    const wanted = new Map<string, number>();
    for (const c of changes) {
      if ((entries.get(c.name)?.version ?? 0) < c.version && (wanted.get(c.name) ?? 0) < c.version) wanted.set(c.name, c.version);
    }
    await mapLimit([...wanted], 32, async ([name, version]) => {
      // a marker's version exists (it is written after it); read the head if an operator removed it
      const e = (await toEntry(name, version, () => readVersion(name, version))) ?? (await toEntry(name, version, () => readHeadVersion(name)));
      if (e && (entries.get(name)?.version ?? 0) <= e.version) entries.set(name, e);
    });
    // also when a burst of commits sits in the snapshot's margin and a new watermark would leave it behind
    const stale = changes.length >= SNAPSHOT_AFTER_READS * 2 && watermarkOf(listedAt) - snap.watermark > MARGIN_MS;
    let written: string | undefined;
    if (wanted.size >= SNAPSHOT_AFTER_READS || changes.length >= SNAPSHOT_AFTER_READS * 16 || stale) {
      written = await save(watermarkOf(listedAt), entries, snap);
    }
    return indexFrom(entries, snap, written ?? key, changes.length, wanted.size);
  }
  return rebuildIndex();
}

/** For tests: forget the decoded snapshot. */
export function resetListingMemo(): void {
  memo = undefined;
}
