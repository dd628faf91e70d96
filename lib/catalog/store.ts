/**
 * The catalog in the bucket (docs/adr/0002-catalog-commits.md).
 *
 *   _catalog/datasets/<name>/versions/<999999999999 - version, 12 digits>.parquet
 *
 * Every version is a complete manifest, written once under a name no other commit can use, and
 * never overwritten. The inverted number makes the newest version the first key in a listing, so
 * reading a dataset's head is one LIST (MaxKeys=1) and one GET, whatever its history.
 *
 * Commit = read head → compute next manifest → create version head+1 exactly once:
 *   - stores that honour conditional writes: PUT If-None-Match:* (optimistic; 412 → re-read, retry);
 *   - stores that ignore them: the same steps inside the bakery lock of lib/storage/lock.ts.
 */
import {
  firstKey,
  getObjectBytes,
  headObject,
  listAll,
  putObject,
  isPreconditionFailed,
  isConditionalConflict,
  storageError,
} from '../storage/objects.js';
import { conditionalWritesSupported } from '../storage/conditional.js';
import { keys, parseNameMarker, parseVersionKey, PREFIX, VERSION_MAX } from '../storage/keys.js';
import { withLock } from '../storage/lock.js';
import { encodeManifest, decodeManifest, CorruptManifestError } from './codec.js';
import { layOut, resolveSegments } from './segments.js';
import { isDropped, type StoredManifest } from './manifest.js';
import { LakehouseError, unavailable } from '../errors.js';
import { log } from '../log.js';
import { afterCommit, prefetchPublish, type PublishPrefetch } from '../iceberg/publish.js';
import { recordChange } from './changes.js';

export const CATALOG_PREFIX = PREFIX.catalogDatasets;
/**
 * One marker per dataset, written before its first version, so listing datasets is a flat
 * LIST (delimiter listings of nested keys are broken on the embedded server, and a flat LIST of
 * every version would grow with history).
 */
export const NAMES_PREFIX = PREFIX.catalogNames;
const VERSION_SPAN = VERSION_MAX;

export function versionsPrefix(name: string): string {
  return keys.versionsPrefix(name);
}

export function versionKey(name: string, version: number): string {
  return keys.version(name, version);
}

export function versionFromKey(name: string, key: string): number | undefined {
  return parseVersionKey(name, key);
}

export class CatalogCorruptError extends LakehouseError {
  constructor(name: string, key: string) {
    super('corrupt_manifest', `The catalog entry for dataset "${name}" is unreadable; it is skipped.`, {
      name,
      key,
    });
  }
}

async function readVersionFile(name: string, key: string): Promise<StoredManifest | undefined> {
  const bytes = await getObjectBytes(key);
  if (!bytes) return undefined;
  try {
    const m = await decodeManifest(bytes, key);
    if (m.name !== name) throw new CorruptManifestError(`manifest names dataset "${m.name}"`, key);
    return await resolveSegments(m);
  } catch (e) {
    if (e instanceof CorruptManifestError) {
      log.error('corrupt manifest', { dataset: name, key, detail: e.message });
      throw new CatalogCorruptError(name, key);
    }
    throw e;
  }
}

/** The key of a dataset's newest version (one LIST request), or undefined. */
export async function headKey(name: string): Promise<string | undefined> {
  return firstKey(versionsPrefix(name));
}

/** The newest version of a dataset, or undefined if it does not exist or was dropped. */
export async function readHead(name: string): Promise<StoredManifest | undefined> {
  const m = await readHeadVersion(name);
  return isDropped(m) ? undefined : m;
}

/** The newest version file of a name, a drop's tombstone included, or undefined. */
export async function readHeadVersion(name: string): Promise<StoredManifest | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const key = await headKey(name);
    if (!key) return undefined;
    const m = await readVersionFile(name, key);
    if (m) return m;
    // deleted between LIST and GET (only an operator deletes versions): list again
  }
  throw unavailable('catalog_unstable', `The catalog entry for dataset "${name}" changed while being read; try again.`);
}

export async function readVersion(name: string, version: number): Promise<StoredManifest | undefined> {
  if (!Number.isInteger(version) || version < 1 || version > VERSION_SPAN) return undefined;
  return readVersionFile(name, versionKey(name, version));
}

/** Every version of a dataset, newest first (keys only). */
export async function listVersionKeys(name: string, limit?: number): Promise<string[]> {
  return (await listVersions(name, limit)).map((v) => v.key);
}

/** Every version of a dataset, newest first, with when the store wrote it (its clock). */
export async function listVersions(name: string, limit?: number): Promise<Array<{ key: string; writtenAt: number | undefined }>> {
  const r = await listAll(versionsPrefix(name), { limit });
  return r.objects
    .filter((o) => versionFromKey(name, o.Key!) !== undefined)
    .map((o) => ({ key: o.Key!, writtenAt: o.LastModified?.getTime() }));
}

/** Dataset names present in the catalog. */
export async function listDatasetNames(): Promise<string[]> {
  const r = await listAll(NAMES_PREFIX);
  return r.objects.map((o) => parseNameMarker(o.Key!)).filter((n): n is string => n !== undefined);
}

/** Writes the dataset's name marker unless it exists (never overwriting where the store allows). */
async function ensureNameMarker(name: string, conditional: boolean): Promise<void> {
  const key = keys.nameMarker(name);
  if (await headObject(key)) return;
  try {
    await putObject(key, name, { ifNoneMatch: conditional, contentType: 'text/plain' });
  } catch (e) {
    if (isPreconditionFailed(e) || isConditionalConflict(e)) return;
    throw storageError('catalog commit', e);
  }
}

export interface LoadResult {
  manifests: StoredManifest[];
  errors: Array<{ name: string; code: string; message: string }>;
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Loads every dataset's head in parallel. A dataset whose head is unreadable is reported in
 * `errors` and skipped; it never blocks the others (poison isolation).
 */
export async function loadCatalog(names?: string[]): Promise<LoadResult> {
  const all = names ?? (await listDatasetNames());
  const result: LoadResult = { manifests: [], errors: [] };
  const loaded = await mapLimit(all, 32, async (name) => {
    try {
      return { name, m: await readHead(name) }; // a dropped dataset is not listed
    } catch (e) {
      if (e instanceof CatalogCorruptError) return { name, err: e };
      throw e;
    }
  });
  for (const r of loaded) {
    if ('err' in r && r.err) result.errors.push({ name: r.name, code: r.err.code, message: r.err.message });
    else if ('m' in r && r.m) result.manifests.push(r.m);
  }
  result.manifests.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return result;
}

/** What a commit step decides, given the current head. */
export type Decision =
  | { kind: 'write'; next: Omit<StoredManifest, 'version'> }
  | { kind: 'noop'; result: StoredManifest };

/** What a commit step knows beyond the live head. */
export interface CommitContext {
  /** The tombstone of the name's last drop, when the name's newest version is one. */
  dropped?: StoredManifest;
}

export interface CommitResult {
  manifest: StoredManifest;
  /** False when the decision was a no-op (nothing written). */
  written: boolean;
  attempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Decide = (head: StoredManifest | undefined, ctx: CommitContext) => Decision | Promise<Decision>;

/** Runs `decide` on the live head (undefined after a drop; the tombstone is in the context). */
function decideOn(raw: StoredManifest | undefined, decide: Decide): Decision | Promise<Decision> {
  return isDropped(raw) ? decide(undefined, { dropped: raw }) : decide(raw, {});
}

/**
 * Commits the next version of a dataset. `decide` sees the current live head (or undefined) and
 * either returns the next manifest or a no-op; it may throw (e.g. a schema conflict), in which
 * case nothing is written. `decide` can run more than once (after a lost race), always on the
 * latest head. Version numbers continue across a drop. Once a version is durable its change
 * marker is written (the listing reads it: docs/adr/0012-catalog-listing.md) — after a no-op too,
 * so a retry whose first attempt died between the version and its marker still records it — and
 * it is published as Iceberg metadata (never failing the commit: docs/adr/0010-iceberg-tables.md).
 */
export interface CommitHooks {
  /** Runs right before the version is written (tests: a crash there). */
  beforeWrite?: () => Promise<void>;
  /**
   * The new objects are still being written: the head is read and the version prepared meanwhile,
   * and the version is written only once this resolves (if it rejects, nothing is written). Under
   * the lock it is awaited before the lock is taken, so no upload holds the lock.
   */
  objectsWritten?: Promise<void>;
  /**
   * New objects that are also local files with the same bytes (the files they were uploaded from):
   * the Iceberg publication reads their footers there. With the previous version's Iceberg
   * metadata it is read while the version is prepared, not after it is written.
   */
  localObjects?: ReadonlyMap<string, string>;
}

export async function commit(name: string, decide: Decide, hooks: CommitHooks = {}): Promise<CommitResult> {
  const { publish, ...r } = await commitVersion(name, decide, hooks);
  // the change marker and the Iceberg metadata are independent of each other: written together
  await Promise.all([recordChange(name, r.manifest.version), r.written ? afterCommit(r.manifest, publish) : undefined]);
  return r;
}

type Committed = CommitResult & { publish?: PublishPrefetch };

async function commitVersion(name: string, decide: Decide, hooks: CommitHooks): Promise<Committed> {
  if (await conditionalWritesSupported()) {
    for (let attempt = 1; attempt <= 50; attempt++) {
      const head = await readHeadVersion(name);
      const d = await decideOn(head, decide);
      if (d.kind === 'noop') return { manifest: d.result, written: false, attempts: attempt };
      const next: StoredManifest = { ...d.next, version: (head?.version ?? 0) + 1, segments: await layOut(head, d.next) };
      const body = await encodeManifest(next);
      const publish = prefetchPublish(next, hooks.localObjects);
      await hooks.objectsWritten;
      await hooks.beforeWrite?.();
      if (!head) await ensureNameMarker(name, true);
      try {
        await putObject(versionKey(name, next.version), body, { ifNoneMatch: true, contentType: 'application/vnd.apache.parquet' });
        return { manifest: next, written: true, attempts: attempt, publish };
      } catch (e) {
        if (isPreconditionFailed(e) || isConditionalConflict(e)) {
          await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * Math.random());
          continue;
        }
        throw storageError('catalog commit', e);
      }
    }
    throw unavailable('commit_contention', `Too many concurrent commits to dataset "${name}"; try again.`);
  }

  await hooks.objectsWritten;
  return withLock(`catalog/${name}`, async (guard) => {
    const head = await readHeadVersion(name);
    const d = await decideOn(head, decide);
    if (d.kind === 'noop') return { manifest: d.result, written: false, attempts: 1 };
    const next: StoredManifest = { ...d.next, version: (head?.version ?? 0) + 1, segments: await layOut(head, d.next) };
    const key = versionKey(name, next.version);
    const body = await encodeManifest(next);
    const publish = prefetchPublish(next, hooks.localObjects);
    // Defence in depth: never overwrite a version, even if the lock was violated.
    if (await headObject(key)) {
      throw unavailable('commit_contention', `A concurrent commit to dataset "${name}" was detected; try again.`);
    }
    await hooks.beforeWrite?.();
    if (!head) await ensureNameMarker(name, false);
    guard.check();
    try {
      await putObject(key, body, { contentType: 'application/vnd.apache.parquet' });
    } catch (e) {
      throw storageError('catalog commit', e);
    }
    return { manifest: next, written: true, attempts: 1, publish };
  });
}
