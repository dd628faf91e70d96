/**
 * Ingest of one uploaded object (S3 ObjectCreated on uploads/): find the object, take the upload's
 * lease (creating the record of a direct put), run the ingest job (job.ts: download → analyze →
 * convert → store → commit), and record `ready` or `failed` — the latter through the one mapper
 * (failure.ts). The catalog is untouched on failure (a Parquet object written before a failed
 * commit is an orphan for the GC, never visible).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config.js';
import { LakehouseError } from '../errors.js';
import { log } from '../log.js';
import { isValidUploadId } from '../names.js';
import { headObject, type Head } from '../storage/objects.js';
import { PREFIX, parseUploadKey } from '../storage/keys.js';
import type { ObjectEvent } from '../storage/events.js';
import { publicManifest } from '../catalog/manifest.js';
import { acquireLease, finishIngest, type VersionedRecord } from './status.js';
import { prestartWorker, scansInThread } from './scan-thread.js';
import { warmScanThread, warmStorage } from './warm.js';
import { uploadError } from './failure.js';
import { IngestJob, downloadPath } from './job.js';
import { IncomingFile } from './incoming.js';
import { TAIL_BYTES } from './plan.js';
import { warmUp } from './convert.js';
import { warmEncoder } from '../catalog/codec.js';
import { newUploadRecord } from './record.js';

export { prepareInput } from './prepare.js';

export type IngestOutcome =
  | { outcome: 'ready'; uploadId: string; rows: number }
  | { outcome: 'failed'; uploadId: string; code: string }
  | { outcome: 'skipped'; uploadId: string; reason: string }
  | { outcome: 'ignored'; key: string; reason: string };

/** Finds which candidate key exists (AWS-decoded first, raw second). */
async function resolveKey(candidates: string[]): Promise<{ key: string; head: Head } | undefined> {
  for (const k of candidates) {
    if (!k.startsWith(PREFIX.uploads)) continue;
    const head = await headObject(k).catch((e) => {
      if (e instanceof LakehouseError && e.code === 'invalid_key') return undefined;
      throw e;
    });
    if (head) return { key: k, head };
  }
  return undefined;
}

function sanitizeId(raw: string): string {
  const s = raw.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/\.{2,}/g, '_').slice(0, 128);
  return /^[A-Za-z0-9_]/.test(s) ? s : `u${s}`.slice(0, 128);
}

export async function ingestEvent(ev: ObjectEvent): Promise<IngestOutcome> {
  const found = await resolveKey(ev.keys);
  if (!found) {
    log.warn('ingest: object not found (deleted before ingest?)', { keys: ev.keys });
    return { outcome: 'ignored', key: ev.keys[0] ?? '', reason: 'object not found' };
  }
  const parsed = parseUploadKey(found.key);
  if (!parsed) return { outcome: 'ignored', key: found.key, reason: 'not an upload key' };
  const uploadId = isValidUploadId(parsed.uploadId) ? parsed.uploadId : sanitizeId(parsed.uploadId);
  const owner = crypto.randomUUID();
  // a direct put (no presign) gets its record here, built as POST /uploads builds one
  const direct = () =>
    newUploadRecord({ upload_id: uploadId, name: parsed.rawName.toLowerCase(), key: found.key, filename: parsed.fileName, source: 'direct' });
  // a large upload is planned and scanned in a worker: its start overlaps the lease
  if (scansInThread(found.head.size) && found.head.size <= config().maxUploadBytes) prestartWorker();
  const workDir = fs.mkdtempSync(path.join(ensureDir(config().tmpDir), 'ingest-'));
  // the download starts while the lease is taken (two status round trips), unless the object is
  // over the size limit (the job refuses it before reading a byte); a skipped upload drops it
  const incoming = found.head.size <= config().maxUploadBytes ? IncomingFile.start(found.key, downloadPath(workDir), found.head, TAIL_BYTES) : undefined;
  const started = Date.now();
  try {
    const lease = await acquireLease(uploadId, owner, direct, found.head.etag);
    if (lease.kind === 'skip') {
      log.info('ingest: skipped', { upload_id: uploadId, reason: lease.reason });
      return { outcome: 'skipped', uploadId, reason: lease.reason };
    }
    const job = new IngestJob({ rec: lease.record, key: found.key, head: found.head, gzipHint: parsed.gzip, workDir, incoming });
    return await runJob(job, uploadId, owner, started, lease.version);
  } finally {
    incoming?.abort();
    await Promise.allSettled([incoming?.done, incoming?.tail]);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** Runs the job and records its outcome in the upload's status (`ready`, or `failed` through the one mapper). */
async function runJob(job: IngestJob, uploadId: string, owner: string, started: number, lease?: VersionedRecord): Promise<IngestOutcome> {
  const rec = job.rec;
  const timings = job.timings;
  try {
    const result = await job.run();
    timings.total = Date.now() - started;
    const ok = await finishIngest(uploadId, owner, (r) => {
      r.state = 'ready';
      r.dataset = publicManifest(result.manifest);
      r.row_count = result.rows;
      r.report = result.report;
      r.timings_ms = timings;
      if (result.rejected !== undefined) {
        r.rejected_rows = result.rejected;
        r.rejects_key = result.rejectsKey;
      }
    }, lease);
    if (!ok) log.warn('ingest: lease lost before the final status write', { upload_id: uploadId });
    log.info('ingest: ready', { upload_id: uploadId, dataset: rec.name, rows: result.rows, timings_ms: timings });
    return { outcome: 'ready', uploadId, rows: result.rows };
  } catch (e) {
    timings.total = Date.now() - started;
    const err = uploadError(e);
    log[err.code === 'internal' ? 'error' : 'info']('ingest: failed', { upload_id: uploadId, code: err.code, err: e });
    await finishIngest(uploadId, owner, (r) => {
      r.state = 'failed';
      r.error = err;
      r.timings_ms = timings;
    }, lease).catch((e2) => log.error('ingest: could not record the failure', { upload_id: uploadId, err: e2 }));
    return { outcome: 'failed', uploadId, code: err.code };
  }
}

/**
 * Creates what a first ingest would create — DuckDB, the manifest writer, the bucket's
 * conditional-write probe, a compiled scan worker (warm.ts) — for a warm-up invocation.
 */
export async function warmIngest(): Promise<boolean> {
  await Promise.all([warmUp(), warmEncoder(), warmStorage(), warmScanThread(config().tmpDir)]);
  return true;
}

function ensureDir(d: string): string {
  fs.mkdirSync(d, { recursive: true });
  return d;
}
