/**
 * Upload status records: _uploads/<upload_id>.json. One JSON document per upload, rewritten as
 * the upload moves pending → ingesting → ready | failed. Transitions that must not race
 * (taking the ingest lease) run under the upload's lock (lib/storage/lock.ts).
 */
import { getJson, putJson, presignGet } from '../storage/objects.js';
import { keys } from '../storage/keys.js';
import { withLock } from '../storage/lock.js';
import { config } from '../config.js';
import type { Manifest } from '../catalog/manifest.js';
import type { Mode, SchemaChange } from '../catalog/register.js';
import type { CsvHints } from './dialect.js';

export type UploadState = 'pending' | 'ingesting' | 'ready' | 'failed';
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

export type LeaseOutcome =
  | { kind: 'acquired'; record: UploadRecord; previous: UploadRecord | undefined }
  | { kind: 'skip'; reason: 'ready' | 'leased'; record: UploadRecord };

/**
 * Takes the ingest lease for an upload, creating the record for direct puts. An upload that is
 * already ready, or being ingested under a live lease, is not ingested again.
 */
export async function acquireLease(
  uploadId: string,
  owner: string,
  init: () => UploadRecord,
  etag: string | undefined,
): Promise<LeaseOutcome> {
  return withLock(`upload/${uploadId}`, async () => {
    const existing = await readStatus(uploadId);
    const now = Date.now();
    if (existing?.state === 'ready') return { kind: 'skip', reason: 'ready', record: existing };
    if (existing?.state === 'ingesting' && existing.lease && Date.parse(existing.lease.expires_at) > now) {
      return { kind: 'skip', reason: 'leased', record: existing };
    }
    const rec: UploadRecord = existing ? { ...existing } : init();
    rec.state = 'ingesting';
    rec.attempts = (rec.attempts ?? 0) + 1;
    rec.lease = { owner, expires_at: new Date(now + config().ingestLeaseMs).toISOString() };
    rec.object_etag = etag ?? null;
    delete rec.error;
    await writeStatus(rec);
    return { kind: 'acquired', record: rec, previous: existing };
  });
}

/** Final write of an ingest: only if we still hold the lease (a newer attempt wins otherwise). */
export async function finishIngest(uploadId: string, owner: string, update: (rec: UploadRecord) => void): Promise<boolean> {
  return withLock(`upload/${uploadId}`, async () => {
    const rec = await readStatus(uploadId);
    if (!rec || rec.lease?.owner !== owner) return false;
    update(rec);
    rec.lease = null;
    await writeStatus(rec);
    return true;
  });
}
