/**
 * Upload status records: _uploads/<upload_id>.json. One JSON document per upload, rewritten as
 * the upload moves pending → ingesting → ready | failed (or pending → expired). Transitions that
 * must not race (taking the ingest lease, the final write, the sweeper's) are read-decide-write
 * steps made atomic the way catalog commits are (ADR 0002): on stores that honour conditional
 * writes, a PUT If-Match on the ETag that was read (If-None-Match: * when there was no record),
 * re-read and re-decided when another writer got there first; elsewhere under the upload's bakery
 * lock (lib/storage/lock.ts), whose guard is checked right before the write.
 *
 * Lease times are the store's clock (lib/storage/clock.ts), so ingests on machines whose clocks
 * disagree still agree on whether a lease has expired.
 */
import {
  getJson,
  getJsonVersioned,
  headObject,
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  listAll,
  putJson,
  putObject,
  presignGet,
  storageError,
} from '../storage/objects.js';
import { keys, parseUploadStatusKey, PREFIX } from '../storage/keys.js';
import { withLock } from '../storage/lock.js';
import { compareAndSwapSupported } from '../storage/conditional.js';
import { storeNow } from '../storage/clock.js';
import { config } from '../config.js';
import { unavailable } from '../errors.js';
import { log } from '../log.js';
import type { Manifest } from '../catalog/manifest.js';
import type { Mode, SchemaChange } from '../catalog/register.js';
import type { CsvHints } from './dialect.js';

export type UploadState = 'pending' | 'ingesting' | 'ready' | 'failed' | 'expired';
export type BadRows = 'fail' | 'quarantine';

export interface UploadError {
  code: string;
  message: string;
  line?: number;
  column?: number;
  [k: string]: unknown;
}

export interface UploadRecord {
  upload_id: string;
  name: string;
  mode: Mode;
  bad_rows: BadRows;
  /** CSV hints given with the upload (override detection). */
  csv?: CsvHints;
  /** What to do when the schema differs from the dataset's (default fail). */
  schema_change?: SchemaChange;
  key: string;
  filename?: string | null;
  size?: number | null;
  source: 'presign' | 'direct';
  state: UploadState;
  created_at: string;
  updated_at: string;
  error?: UploadError;
  dataset?: Manifest;
  row_count?: number;
  rejected_rows?: number;
  rejects_key?: string;
  report?: Record<string, unknown>;
  timings_ms?: Record<string, number>;
  attempts: number;
  /** Ingest lease: who is working on it until when (internal). */
  lease?: { owner: string; expires_at: string } | null;
  /** ETag of the upload object that was ingested (internal). */
  object_etag?: string | null;
}

export async function readStatus(uploadId: string): Promise<UploadRecord | undefined> {
  return getJson<UploadRecord>(keys.uploadStatus(uploadId));
}

/** Writes a record unconditionally: for a record nobody else can know yet (POST /uploads mints its id). */
export async function writeStatus(rec: UploadRecord): Promise<void> {
  rec.updated_at = new Date().toISOString();
  await putJson(keys.uploadStatus(rec.upload_id), rec);
}

/** The status as the API shows it: internal fields removed, a fresh presigned rejects_url. */
export async function publicStatus(rec: UploadRecord): Promise<Record<string, unknown>> {
  const { lease, object_etag, rejects_key, attempts, source, ...rest } = rec;
  void lease;
  void object_etag;
  void attempts;
  void source;
  const out: Record<string, unknown> = { ...rest };
  if (rejects_key) out.rejects_url = await presignGet(rejects_key, config().resultUrlTtlSeconds, `${rec.upload_id}-rejects.csv`);
  return out;
}

/**
 * `updated_at` of a transition: the store's clock (lib/storage/clock.ts), which knows the time only
 * to the second of its last `Date` header, so never before the record's `created_at` (this
 * machine's clock, at POST /uploads) or the version it replaces.
 */
function stamp(next: UploadRecord, prev: UploadRecord | undefined): string {
  const floor = Math.max(Date.parse(next.created_at) || 0, (prev && Date.parse(prev.updated_at)) || 0);
  return new Date(Math.max(storeNow(), floor)).toISOString();
}

/** What a read-decide-write step does with the record it read. */
type Step<T> = { write?: UploadRecord; result: T };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A record as stored and the ETag of that version. */
export interface VersionedRecord {
  value: UploadRecord;
  etag: string;
}

/**
 * Reads the record, lets `decide` choose (it may run again, on a newer record, after a lost race),
 * and writes its choice atomically with respect to every other transition of this upload.
 * `known`: the version this process wrote last (the ingest's lease), decided on without a GET; if
 * the record has changed since, the conditional write fails and the step runs on a fresh read.
 * `written` receives the version written (compare-and-swap stores only).
 */
export async function updateStatus<T>(
  uploadId: string,
  decide: (rec: UploadRecord | undefined) => Step<T>,
  known?: VersionedRecord,
  written?: (v: VersionedRecord) => void,
): Promise<T> {
  const key = keys.uploadStatus(uploadId);
  if (await compareAndSwapSupported()) {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const read = attempt === 1 && known ? known : await getJsonVersioned<UploadRecord>(key);
      const step = decide(read ? { ...read.value } : undefined);
      if (!step.write) return step.result;
      step.write.updated_at = stamp(step.write, read?.value);
      try {
        const body = JSON.stringify(step.write);
        const etag = await putObject(key, body, {
          contentType: 'application/json',
          ...(read?.etag !== undefined ? { ifMatch: read.etag } : { ifNoneMatch: true }),
        });
        // what a GET of that version returns (a copy: the caller may go on changing its record)
        if (etag) written?.({ value: JSON.parse(body) as UploadRecord, etag });
        return step.result;
      } catch (e) {
        // 412: another transition won; 409: one is in flight; 404: the record was removed
        if (!isPreconditionFailed(e) && !isConditionalConflict(e) && !isNotFound(e)) throw storageError('PUT', e);
        await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * Math.random());
      }
    }
    throw unavailable('status_contention', `Too many concurrent updates of upload "${uploadId}"; try again.`);
  }
  return withLock(`upload/${uploadId}`, async (guard) => {
    const existing = await readStatus(uploadId);
    const step = decide(existing ? { ...existing } : undefined);
    if (!step.write) return step.result;
    step.write.updated_at = stamp(step.write, existing);
    guard.check(); // never write on a lock we may have lost
    await putJson(key, step.write);
    return step.result;
  });
}

export type LeaseOutcome =
  /** `version`: the record as the lease wrote it, for the final write's compare-and-swap without a read. */
  | { kind: 'acquired'; record: UploadRecord; previous: UploadRecord | undefined; version?: VersionedRecord }
  | { kind: 'skip'; reason: 'ready' | 'leased' | 'crashed'; record: UploadRecord };

function leaseLive(rec: UploadRecord, now: number): boolean {
  return rec.state === 'ingesting' && !!rec.lease && Date.parse(rec.lease.expires_at) > now;
}

/** An upload whose ingests kept dying: failed with `ingest_crashed` and the attempts made. */
function crashed(rec: UploadRecord): UploadRecord {
  return {
    ...rec,
    state: 'failed',
    lease: null,
    error: {
      code: 'ingest_crashed',
      message: `The ingest stopped without finishing ${rec.attempts} time(s) (crash, timeout or out of memory); the sweeper gives up on it. Delivering the event again (or a new upload) tries once more.`,
      attempts: rec.attempts,
    },
  };
}

/**
 * Takes the ingest lease for an upload, creating the record for direct puts. An upload that is
 * already ready, or being ingested under a live lease, is not ingested again; one whose lease
 * expired after `LAKEHOUSE_INGEST_MAX_ATTEMPTS` attempts is failed with `ingest_crashed`.
 */
export async function acquireLease(
  uploadId: string,
  owner: string,
  init: () => UploadRecord,
  etag: string | undefined,
): Promise<LeaseOutcome> {
  const cfg = config();
  let version: VersionedRecord | undefined;
  const outcome = await updateStatus<LeaseOutcome>(uploadId, (existing) => {
    const now = storeNow();
    if (existing?.state === 'ready') return { result: { kind: 'skip', reason: 'ready', record: existing } };
    if (existing && leaseLive(existing, now)) return { result: { kind: 'skip', reason: 'leased', record: existing } };
    if (existing?.state === 'ingesting' && (existing.attempts ?? 0) >= cfg.ingestMaxAttempts) {
      const rec = crashed(existing);
      return { write: rec, result: { kind: 'skip', reason: 'crashed', record: rec } };
    }
    const rec: UploadRecord = existing ? { ...existing } : init();
    rec.state = 'ingesting';
    rec.attempts = (rec.attempts ?? 0) + 1;
    rec.lease = { owner, expires_at: new Date(now + cfg.ingestLeaseMs).toISOString() };
    rec.object_etag = etag ?? null;
    delete rec.error;
    return { write: rec, result: { kind: 'acquired', record: rec, previous: existing } };
  }, undefined, (v) => (version = v));
  return outcome.kind === 'acquired' && version ? { ...outcome, version } : outcome;
}

/**
 * Final write of an ingest: only if we still hold the lease (a newer attempt wins otherwise).
 * `lease`: the record as the lease wrote it — written over without reading it first, unless it changed.
 */
export async function finishIngest(uploadId: string, owner: string, update: (rec: UploadRecord) => void, lease?: VersionedRecord): Promise<boolean> {
  return updateStatus(
    uploadId,
    (rec) => {
      if (!rec || rec.lease?.owner !== owner) return { result: false };
      update(rec);
      rec.lease = null;
      return { write: rec, result: true };
    },
    lease,
  );
}

// ---- the sweeper: uploads nobody will finish --------------------------------------------------

export interface SweepReport {
  scanned: number;
  /** Re-driven (ingest run again in process): upload id → outcome. */
  redriven: Array<{ upload_id: string; outcome: string }>;
  /** Failed with `ingest_crashed` (attempts exhausted). */
  crashed: string[];
  /** `pending` past its URL's lifetime with no object: now `expired`. */
  expired: string[];
  /** `ingesting` with an expired lease whose object is gone: failed with `not_found`. */
  missing: string[];
  /** Left for the next run (time or re-drive budget exhausted). */
  deferred: string[];
}

export interface SweepOptions {
  /** Runs the ingest of an upload's object in process; returns its outcome. */
  redrive: (rec: UploadRecord) => Promise<string>;
  /** Milliseconds the caller has left (Lambda context); re-drives stop below `minRemainingMs`. */
  remainingMs?: () => number;
  minRemainingMs?: number;
  /** At most this many re-drives per run (default 5). */
  maxRedrives?: number;
}

/** When a pending upload's URL expires (its lifetime is the configured one). */
function pendingExpiresAt(rec: UploadRecord): number {
  return Date.parse(rec.created_at) + config().uploadUrlTtlSeconds * 1000;
}

type SweepAction = 'redrive' | 'crashed' | 'expire' | 'none';

function sweepAction(rec: UploadRecord, now: number): SweepAction {
  if (rec.state === 'ingesting' && !leaseLive(rec, now)) {
    return (rec.attempts ?? 0) >= config().ingestMaxAttempts ? 'crashed' : 'redrive';
  }
  if (rec.state === 'pending' && pendingExpiresAt(rec) <= now) return 'expire';
  return 'none';
}

/**
 * One pass over `_uploads/`: an `ingesting` upload whose lease expired is ingested again (its
 * attempts bounded: then `failed` / `ingest_crashed`); a `pending` upload past its URL's lifetime
 * becomes `expired` — or, when its object did arrive (the event was lost), is ingested.
 * Every transition is re-decided on the current record, so a concurrent ingest always wins.
 */
export async function sweepUploads(opts: SweepOptions): Promise<SweepReport> {
  const report: SweepReport = { scanned: 0, redriven: [], crashed: [], expired: [], missing: [], deferred: [] };
  const listed = await listAll(PREFIX.uploadStatus);
  const ids = listed.objects.map((o) => parseUploadStatusKey(o.Key!)).filter((id): id is string => id !== undefined);
  const todo: UploadRecord[] = [];
  for (let i = 0; i < ids.length; i += 16) {
    const recs = await Promise.all(ids.slice(i, i + 16).map((id) => readStatus(id).catch(() => undefined)));
    for (const rec of recs) {
      if (!rec) continue;
      report.scanned++;
      if (sweepAction(rec, storeNow()) !== 'none') todo.push(rec);
    }
  }
  const maxRedrives = opts.maxRedrives ?? 5;
  const minRemaining = opts.minRemainingMs ?? 60_000;
  for (const seen of todo) {
    const id = seen.upload_id;
    const action = sweepAction(seen, storeNow());
    if (action === 'crashed') {
      const done = await updateStatus(id, (rec) =>
        rec && sweepAction(rec, storeNow()) === 'crashed' ? { write: crashed(rec), result: true } : { result: false },
      );
      if (done) report.crashed.push(id);
      continue;
    }
    const present = await headObject(seen.key);
    if (!present) {
      const done = await updateStatus<'expired' | 'missing' | undefined>(id, (rec) => {
        if (!rec) return { result: undefined };
        const a = sweepAction(rec, storeNow());
        if (a === 'expire') {
          const out: UploadRecord = {
            ...rec,
            state: 'expired',
            error: {
              code: 'upload_expired',
              message: `No file arrived before the upload URL expired (${new Date(pendingExpiresAt(rec)).toISOString()}); request a new one.`,
            },
          };
          return { write: out, result: 'expired' };
        }
        if (a === 'redrive') {
          const out: UploadRecord = {
            ...rec,
            state: 'failed',
            lease: null,
            error: { code: 'not_found', message: 'The uploaded object no longer exists; upload it again.' },
          };
          return { write: out, result: 'missing' };
        }
        return { result: undefined };
      });
      if (done === 'expired') report.expired.push(id);
      else if (done === 'missing') report.missing.push(id);
      continue;
    }
    if (report.redriven.length >= maxRedrives || (opts.remainingMs && opts.remainingMs() < minRemaining)) {
      report.deferred.push(id);
      continue;
    }
    try {
      const outcome = await opts.redrive(seen);
      report.redriven.push({ upload_id: id, outcome });
    } catch (e) {
      // infrastructure trouble: the lease expires again and the next run retries (attempts bound it)
      log.error('sweeper: re-drive failed', { upload_id: id, err: e });
      report.redriven.push({ upload_id: id, outcome: 'error' });
    }
  }
  log.info('sweeper', {
    scanned: report.scanned,
    redriven: report.redriven.length,
    crashed: report.crashed.length,
    expired: report.expired.length,
    missing: report.missing.length,
    deferred: report.deferred.length,
  });
  return report;
}
