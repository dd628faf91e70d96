/**
 * Where an ingest's Parquet object goes, and the rejects file of a quarantine upload. Data keys are
 * immutable: an object a previous attempt left at this upload's key is reused only if the catalog
 * already references it or it is byte-identical (size and MD5 ETag); otherwise this attempt writes
 * a key of its own (`<upload_id>-<attempt>`). The key carries the schema fingerprint, so a drifted
 * schema can never overwrite live data.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { headObject, uploadFile } from '../storage/objects.js';
import { keys } from '../storage/keys.js';
import type { StoredManifest } from '../catalog/manifest.js';
import type { Analysis } from './analyze.js';
import { writeRejects } from './prepare.js';
import type { UploadRecord } from './status.js';

export interface Placement {
  key: string;
  size: number;
  /** The object is still to be uploaded (false: an earlier attempt's object is kept). */
  write: boolean;
  rejectsKey?: string;
  /** Why an earlier attempt's object was kept, for the report. */
  note?: string;
}

export async function placeObject(o: {
  rec: UploadRecord;
  name: string;
  fp: string;
  a: Analysis;
  current: StoredManifest | undefined;
  parquet: string;
  workDir: string;
}): Promise<Placement> {
  const { rec, name, fp, a, current, parquet } = o;
  let rejectsKey: string | undefined;
  if (rec.bad_rows === 'quarantine' && a.scan.bad.length > 0) {
    const rejects = path.join(o.workDir, 'rejects.csv');
    writeRejects(a.file, rejects, a.scan.bad);
    rejectsKey = keys.rejects(rec.upload_id);
    await uploadFile(rejectsKey, rejects, 'text/csv');
  }
  const size = fs.statSync(parquet).size;
  let key = keys.datasetObject(name, fp, rec.upload_id);
  const committed = current?.objects.find((x) => x.key === key);
  if (committed) return { key, size: committed.size, write: false, rejectsKey, note: 'committed by an earlier attempt: kept as it was' };
  const existing = rec.attempts > 1 ? await headObject(key) : undefined;
  if (existing) {
    if (existing.size === size && existing.etag === md5(parquet)) return { key, size, write: false, rejectsKey, note: 'written by an earlier attempt, byte-identical: reused' };
    key = keys.datasetObject(name, fp, `${rec.upload_id}-${rec.attempts}`);
  }
  return { key, size, write: true, rejectsKey };
}

/** MD5 of a file (an S3 ETag of a single-part upload), read in chunks. */
function md5(file: string): string {
  const hash = crypto.createHash('md5');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
