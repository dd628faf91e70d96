/**
 * Ingest of one uploaded object (S3 ObjectCreated on uploads/):
 *   lease → HEAD (size) → download to temp → gunzip → analyze (encoding, dialect, every record,
 *   every type) → DuckDB CSV → Parquet → PUT datasets/<name>/<fp16>/<upload_id>.parquet →
 *   catalog commit → status ready.
 * Any failure: status failed with a code and the first offending line; the catalog is untouched
 * (a Parquet object written before a failed commit is an orphan for the GC, never visible).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config.js';
import { LakehouseError } from '../errors.js';
import { log } from '../log.js';
import { isValidName, isValidUploadId } from '../names.js';
import { downloadToFile, headObject, uploadFile, type Head } from '../storage/objects.js';
import { keys, parseUploadKey } from '../storage/keys.js';
import type { ObjectEvent } from '../storage/events.js';
import { fingerprint, publicManifest } from '../catalog/manifest.js';
import { warmEncoder } from '../catalog/codec.js';
import { commitObjects, conflicts, schemaConflict } from '../catalog/register.js';
import { schemaDiff } from '../catalog/manifest.js';
import { readHead as readCatalogHead } from '../catalog/store.js';
import { NotUtf8Error, openText, planTable, retranscode, sameColumns, scanTable, type Analysis } from './analyze.js';
import { copyRanges, gunzip, ingestError, isGzip, writeCanonical, writeRejects } from './prepare.js';
import { csvToParquet, startConversion, warmUp, type Conversion } from './convert.js';
import { acquireLease, finishIngest, type UploadRecord } from './status.js';
import { uploadError } from './failure.js';

export type IngestOutcome =
  | { outcome: 'ready'; uploadId: string; rows: number }
  | { outcome: 'failed'; uploadId: string; code: string }
  | { outcome: 'skipped'; uploadId: string; reason: string }
  | { outcome: 'ignored'; key: string; reason: string };

const MAX_UNCOMPRESSED_FACTOR = 4;

/** Finds which candidate key exists (AWS-decoded first, raw second). */
async function resolveKey(candidates: string[]): Promise<{ key: string; head: Head } | undefined> {
  for (const k of candidates) {
    if (!k.startsWith('uploads/')) continue;
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
  const now = new Date().toISOString();
  const lease = await acquireLease(
    uploadId,
    owner,
    (): UploadRecord => ({
      upload_id: uploadId,
      name: parsed.rawName.toLowerCase(),
      mode: 'replace',
      bad_rows: 'fail',
      key: found.key,
      filename: parsed.fileName,
      size: null,
      source: 'direct',
      state: 'pending',
      created_at: now,
      updated_at: now,
      attempts: 0,
    }),
    found.head.etag,
  );
  if (lease.kind === 'skip') {
    log.info('ingest: skipped', { upload_id: uploadId, reason: lease.reason });
    return { outcome: 'skipped', uploadId, reason: lease.reason };
  }
  const rec = lease.record;
  const crashedBefore = lease.previous?.state === 'ingesting';
  const started = Date.now();
  const timings: Record<string, number> = {};
  const workDir = fs.mkdtempSync(path.join(ensureDir(config().tmpDir), 'ingest-'));
  const mark = (phase: string, since: number) => (timings[phase] = Date.now() - since);
  try {
    const result = await run(rec, found.key, found.head, parsed.gzip, workDir, timings, mark, crashedBefore);
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
    });
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
    }).catch((e2) => log.error('ingest: could not record the failure', { upload_id: uploadId, err: e2 }));
    return { outcome: 'failed', uploadId, code: err.code };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function ensureDir(d: string): string {
  fs.mkdirSync(d, { recursive: true });
  return d;
}

interface RunResult {
  manifest: Awaited<ReturnType<typeof commitObjects>>['manifest'];
  rows: number;
  report: Record<string, unknown>;
  rejected?: number;
  rejectsKey?: string;
}

async function run(
  rec: UploadRecord,
  key: string,
  head: Head,
  gzipHint: boolean,
  workDir: string,
  timings: Record<string, number>,
  mark: (phase: string, since: number) => number,
  crashedBefore: boolean,
): Promise<RunResult> {
  const cfg = config();
  if (!isValidName(rec.name)) {
    throw ingestError('invalid_name', `"${rec.name}" is not a valid dataset name (^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$).`);
  }
  const name = rec.name.toLowerCase();
  // HEAD first: refuse oversize objects before reading a byte (the local server does not enforce signed sizes).
  if (head.size > cfg.maxUploadBytes) {
    throw ingestError('too_large', `The object is ${head.size} bytes; the limit is ${cfg.maxUploadBytes} bytes.`, {
      size: head.size,
      limit_bytes: cfg.maxUploadBytes,
    });
  }
  if (rec.size !== null && rec.size !== undefined && rec.size !== head.size) {
    throw ingestError('size_mismatch', `The upload is ${head.size} bytes but ${rec.size} bytes were declared.`, {
      size: head.size,
      declared: rec.size,
    });
  }

  let t = Date.now();
  const raw = path.join(workDir, 'upload.bin');
  const warming = Promise.all([warmUp(), warmEncoder()]); // a cold container starts DuckDB (and the manifest writer) while the bytes arrive
  await downloadToFile(key, raw);
  await warming;
  mark('download', t);

  t = Date.now();
  let textFile = raw;
  if (isGzip(raw)) {
    textFile = path.join(workDir, 'upload.csv');
    await gunzip(raw, textFile, cfg.maxUploadBytes * MAX_UNCOMPRESSED_FACTOR);
    fs.rmSync(raw);
    mark('decompress', t);
  } else if (gzipHint) {
    log.info('ingest: .gz name but not gzip data; reading as text', { key });
  }

  // Analyze; when the table is the whole file, DuckDB starts converting with the types the head
  // sample suggests while the full scan runs (the scan decides; a different schema re-converts).
  t = Date.now();
  const hints = rec.csv ?? {};
  let text = await openText(textFile, workDir, 'utf-8', false, hints.encoding);
  let plan = planTable(text, hints);
  const currentP = readCatalogHead(name);
  currentP.catch(() => undefined);
  const parquet = path.join(workDir, 'data.parquet');
  let early: { conversion: Conversion; columns: Analysis['columns']; result: Promise<{ rows?: number; error?: unknown }> } | undefined;
  if (plan.direct) {
    const conversion = await startConversion({
      input: text.file,
      output: path.join(workDir, 'early.parquet'),
      dialect: plan.detection.dialect,
      header: plan.detection.header,
      columns: plan.sampleColumns,
      maxRecordBytes: plan.detection.sampleMaxRecord * 4,
    });
    early = {
      conversion,
      columns: plan.sampleColumns,
      result: conversion.done.then(
        (rows) => ({ rows }),
        (error: unknown) => ({ error }),
      ),
    };
  }
  let a: Analysis;
  try {
    try {
      a = scanTable(plan, { badRows: rec.bad_rows, workDir });
    } catch (e) {
      if (!(e instanceof NotUtf8Error) || hints.encoding === 'utf-8') throw e;
      early?.conversion.cancel();
      await early?.result;
      early = undefined;
      text = await retranscode(text, e, workDir);
      plan = planTable(text, hints);
      a = scanTable(plan, { badRows: rec.bad_rows, workDir });
    }
  } catch (e) {
    early?.conversion.cancel();
    await early?.result;
    throw e;
  }
  const fp = fingerprint(a.columns);
  // Fail fast on schema drift (re-checked atomically at commit).
  const current = await currentP;
  if (conflicts(current, fp, rec.schema_change)) {
    early?.conversion.cancel();
    await early?.result;
    throw schemaConflict(name, current!, a.columns, fp);
  }
  mark('detect', t);

  t = Date.now();
  let rows: number | undefined;
  let overlapped = false;
  if (early && !a.needsCopy && sameColumns(a.columns, early.columns)) {
    const r = await early.result;
    if (r.rows !== undefined) {
      fs.renameSync(path.join(workDir, 'early.parquet'), parquet);
      rows = r.rows;
      overlapped = true;
    } else {
      log.info('ingest: early conversion failed; converting again', { err: r.error });
    }
  } else if (early) {
    early.conversion.cancel();
    await early.result;
  }
  if (rows === undefined) {
    const csvForDuck = prepareInput(a, workDir);
    rows = await csvToParquet({
      input: csvForDuck.file,
      output: parquet,
      dialect: csvForDuck.dialect,
      header: csvForDuck.header,
      columns: a.columns,
      maxRecordBytes: a.scanner.maxRecordBytes,
    });
  }
  if (rows !== a.scanner.records) {
    throw new LakehouseError(
      'internal',
      `Converter and scanner disagree on the row count (${rows} vs ${a.scanner.records}); nothing was ingested.`,
      500,
    );
  }
  mark('convert', t);
  (a.report as Record<string, unknown>).conversion = overlapped
    ? 'started while scanning, with the sample types (the full scan confirmed them)'
    : 'after the scan';

  t = Date.now();
  const objectKey = keys.datasetObject(name, fp, rec.upload_id);
  let rejectsKey: string | undefined;
  if (rec.bad_rows === 'quarantine' && a.scanner.bad.length > 0) {
    const rejects = path.join(workDir, 'rejects.csv');
    writeRejects(a.file, rejects, a.scanner.bad);
    rejectsKey = keys.rejects(rec.upload_id);
    await uploadFile(rejectsKey, rejects, 'text/csv');
  }
  const size = fs.statSync(parquet).size;
  const existing = crashedBefore ? await headObject(objectKey) : undefined;
  const committedBefore = existing && current?.objects.some((o) => o.key === objectKey);
  if (!committedBefore) await uploadFile(objectKey, parquet, 'application/vnd.apache.parquet');
  mark('upload', t);

  t = Date.now();
  const committed = await commitObjects(
    {
      name,
      schema: a.columns,
      schema_fingerprint: fp,
      objects: [{ key: objectKey, size: committedBefore ? existing!.size : size, row_count: rows }],
      row_count: rows,
      mode: rec.mode,
      schemaChange: rec.schema_change,
    },
    { idempotent: true, commitId: `ingest:${rec.upload_id}` },
  );
  mark('commit', t);

  const report: Record<string, unknown> = {
    ...a.report,
    ...(current && current.schema_fingerprint !== fp ? { schema_changes: schemaDiff(current.schema, a.columns) } : {}),
    rows,
    ...(a.scanner.bad.length ? { rejected_rows: a.scanner.bad.length } : {}),
  };
  return {
    manifest: committed.manifest,
    rows,
    report,
    ...(rec.bad_rows === 'quarantine' ? { rejected: a.scanner.bad.length, rejectsKey } : {}),
  };
}

/**
 * The file DuckDB reads: the input itself when the table is the whole file in a shape DuckDB reads
 * as is; else a copy without the skipped byte ranges (preamble, footer, comments, blank lines,
 * quarantined rows); else (padded fields, mixed line endings, a header with another field count)
 * a canonical re-emission of the records without the header line.
 */
export function prepareInput(a: Analysis, workDir: string): { file: string; dialect: Analysis['dialect']; header: boolean } {
  if (!a.needsCopy) return { file: a.file, dialect: a.dialect, header: a.header };
  const out = path.join(workDir, 'table.csv');
  if (a.needsCanonical) {
    writeCanonical(a.file, out, a.start, a.end, {
      dialect: a.dialect,
      header: a.header,
      fields: a.fields,
      firstLine: a.detection.tableLine,
    });
    return { file: out, dialect: { delimiter: 44, quote: 34, escape: 34, comment: -1, trim: false }, header: false };
  }
  const exclude: Array<[number, number]> = [...a.scanner.skipped, ...a.scanner.bad.map((b) => [b.start, b.end] as [number, number])];
  copyRanges(a.file, out, a.start, a.end, exclude);
  return { file: out, dialect: { ...a.dialect, comment: -1 }, header: a.header };
}
