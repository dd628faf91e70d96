/**
 * Catalog change markers (docs/adr/0012-catalog-listing.md): every commit, after its version is
 * durable, writes one empty object naming the dataset and the version,
 *
 *   _catalog/changes/<999999999999999 - time, 15 digits>-<random>-<version>-<name>   newest first
 *
 * where the time is the store's clock (lib/storage/clock.ts) taken right before the PUT. A listing
 * reads the newest watermarked snapshot and then only the markers newer than its watermark minus
 * MARGIN_MS, so it costs O(1) requests plus what changed since the snapshot.
 *
 * The safety argument needs one bound: a marker is durable within LATE_MS of its time. A PUT that
 * took longer (a stalled process) is followed by another marker with a fresh time, until one is on
 * time; MARGIN_MS covers LATE_MS, the two clocks' error (a `Date` header has 1-second resolution)
 * and the watermark's rounding.
 */
import crypto from 'node:crypto';
import { deleteObjects, listAll, listWhile, putObject, storageError } from '../storage/objects.js';
import { keys, parseChangeKey, PREFIX } from '../storage/keys.js';
import { monotonicMs, storeNow } from '../storage/clock.js';
import { unavailable } from '../errors.js';
import { log } from '../log.js';

/** A marker PUT that took longer than this (from taking its time to the response) is written again. */
export const LATE_MS = 10_000;
/** Watermarks are rounded down to this, so readers of one catalog state agree on a snapshot key. */
export const WATERMARK_STEP_MS = 10_000;
/** How far before a snapshot's watermark a listing still reads markers (≥ LATE_MS + clock error + step). */
export const MARGIN_MS = 60_000;

export interface Change {
  key: string;
  at: number;
  name: string;
  version: number;
}

/** Records that `version` of `name` is committed (durable before this returns, and on time). */
export async function recordChange(name: string, version: number): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const started = monotonicMs();
    const key = keys.catalogChange(storeNow(), name, version, crypto.randomBytes(4).toString('hex'));
    try {
      await putObject(key, '', { contentType: 'text/plain' });
    } catch (e) {
      throw storageError('catalog change marker', e);
    }
    const took = monotonicMs() - started;
    if (took <= LATE_MS) return;
    log.warn('catalog change marker was late; writing another', { dataset: name, version, ms: Math.round(took) });
  }
  throw unavailable('catalog_unstable', `The catalog change of dataset "${name}" could not be recorded in time; try again.`);
}

/** The markers written at `since` or later, newest first (one LIST per 1,000 markers, plus one). */
export async function changesSince(since: number): Promise<Change[]> {
  const out: Change[] = [];
  await listWhile(PREFIX.catalogChanges, (key) => {
    const c = parseChangeKey(key);
    if (!c) return true; // not ours: skip it, keep listing
    if (c.at < since) return false;
    out.push({ key, ...c });
    return true;
  });
  return out;
}

/** Deletes markers older than `before` (no listing reads them once a snapshot covers them). */
export async function pruneChanges(before: number): Promise<number> {
  const all = await listAll(PREFIX.catalogChanges);
  const old = all.objects.map((o) => o.Key!).filter((k) => {
    const c = parseChangeKey(k);
    return c !== undefined && c.at < before;
  });
  if (old.length) await deleteObjects(old);
  return old.length;
}
