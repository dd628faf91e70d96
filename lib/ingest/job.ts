/**
 * One ingest, phase by phase: check the object → download → decompress → analyze (encoding,
 * dialect, every record, every type; the early conversion runs meanwhile) → convert → store the
 * Parquet at an immutable key → commit. Each phase is a method with one job, timed under its name.
 * Any failure throws; the caller (pipeline.ts) records it. Nothing is visible before the commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config.js';
import { LakehouseError } from '../errors.js';
import { isValidName } from '../names.js';
import { uploadFile, type Head } from '../storage/objects.js';
import { fingerprint, type StoredManifest } from '../catalog/manifest.js';
import { evolveSchema, storageTypes } from '../catalog/evolve.js';
import { warmEncoder } from '../catalog/codec.js';
import { commitObjects, conflicts, schemaConflict } from '../catalog/register.js';
import { readHead as readCatalogHead } from '../catalog/store.js';
import { NotUtf8Error, planTable, scannedTable, scanTable, TAIL_BYTES, type Analysis } from './analyze.js';
import { openText, retranscode } from './text.js';
import { planInThread, scansInThread } from './scan-thread.js';
import { gunzip, ingestError, isGzip, prepareInput } from './prepare.js';
import { placeObject } from './place.js';
import { csvToParquet, fileStats, warmUp } from './convert.js';
import { EarlyConversion } from './early.js';
import { IncomingFile } from './incoming.js';
import type { UploadRecord } from './status.js';

const MAX_UNCOMPRESSED_FACTOR = 4;

/** Where the upload is downloaded to, in the job's work directory. */
export const downloadPath = (workDir: string) => path.join(workDir, 'upload.bin');

export interface JobInput {
  rec: UploadRecord;
  key: string;
  head: Head;
  /** The key ends in .gz (the bytes decide, this only explains a mismatch in the log). */
  gzipHint: boolean;
  workDir: string;
  /** The download, when the caller started it already (into workDir/upload.bin). */
  incoming?: IncomingFile;
}

export interface JobResult {
  manifest: StoredManifest;
  rows: number;
  report: Record<string, unknown>;
  rejected?: number;
  rejectsKey?: string;
}

interface Analyzed {
  a: Analysis;
  fp: string;
  current: StoredManifest | undefined;
  early: EarlyConversion | undefined;
}

export class IngestJob {
  readonly timings: Record<string, number> = {};
  readonly rec: UploadRecord;
  private readonly workDir: string;

  constructor(private readonly input: JobInput) {
    this.rec = input.rec;
    this.workDir = input.workDir;
  }

  async run(): Promise<JobResult> {
    const name = this.checkObject();
    const { a, fp, current, early } = await this.receive(name);
    const parquet = path.join(this.workDir, 'data.parquet');
    const conversion = await this.timed('convert', () => this.convert(a, early, parquet));
    const stored = await placeObject({ rec: this.rec, name, fp, a, current, parquet, workDir: this.workDir });
    // the commit reads the catalog and prepares the version while the Parquet goes up (it writes
    // the version once the object is there)
    const uploaded = this.timed('upload', () => (stored.write ? uploadFile(stored.key, parquet, 'application/vnd.apache.parquet') : Promise.resolve()));
    uploaded.catch(() => undefined);
    const stats = await fileStats(parquet, a.columns);
    const committed = await this.timed('commit', () =>
      commitObjects(
        {
          name,
          schema: a.columns,
          schema_fingerprint: fp,
          objects: [{ key: stored.key, size: stored.size, row_count: conversion.rows, stats }],
          row_count: conversion.rows,
          mode: this.rec.mode,
          schemaChange: this.rec.schema_change,
        },
        {
          idempotent: true,
          commitId: `ingest:${this.rec.upload_id}`,
          objectsWritten: uploaded,
          // the object is this file (not an earlier attempt's object, which is not compared byte for byte)
          ...(stored.write ? { localObjects: new Map([[stored.key, parquet]]) } : {}),
        },
      ),
    );
    await uploaded;
    const bad = a.scan.bad.length;
    const report: Record<string, unknown> = {
      ...a.report,
      ...(committed.manifest.schema_changes?.length && committed.written ? { schema_changes: committed.manifest.schema_changes } : {}),
      conversion: conversion.streamed
        ? 'streamed while the file downloaded and was scanned, with the sample types (the full scan confirmed them)'
        : conversion.overlapped
          ? 'started while scanning, with the sample types (the full scan confirmed them)'
          : 'after the scan',
      rows: conversion.rows,
      ...(stored.note ? { object: stored.note } : {}),
      ...(bad ? { rejected_rows: bad } : {}),
    };
    return {
      manifest: committed.manifest,
      rows: conversion.rows,
      report,
      ...(this.rec.bad_rows === 'quarantine' ? { rejected: bad, rejectsKey: stored.rejectsKey } : {}),
    };
  }

  private async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      this.timings[phase] = Date.now() - t;
    }
  }

  /** The name and the object's size, checked before a byte is read (the local server does not enforce signed sizes). */
  private checkObject(): string {
    const { rec, head } = this.input;
    const cfg = config();
    if (!isValidName(rec.name)) {
      throw ingestError('invalid_name', `"${rec.name}" is not a valid dataset name (^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$).`);
    }
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
    return rec.name.toLowerCase();
  }

  /**
   * The object arrives and is analysed at once (ADR 0014): the scan, and for a plain file DuckDB's
   * conversion, read the file while it downloads. A gzip object is downloaded whole first, then
   * decompressed and analysed. A cold container starts DuckDB and the manifest writer meanwhile.
   */
  private async receive(name: string): Promise<Analyzed> {
    const warming = Promise.all([warmUp(), warmEncoder()]);
    const incoming = this.input.incoming ?? IncomingFile.start(this.input.key, downloadPath(this.workDir), this.input.head, TAIL_BYTES);
    const downloaded = incoming.done.then(() => {
      this.timings.download = incoming.finishedAt - incoming.startedAt;
    });
    downloaded.catch(() => undefined);
    try {
      await incoming.available(2);
      let analyzed: Analyzed;
      if (isGzip(incoming.file)) {
        await downloaded;
        const text = await this.decompress(incoming.file);
        analyzed = await this.timed('detect', () => this.analyze(text, name));
      } else if (config().ingestOverlap === 'off') {
        await downloaded;
        analyzed = await this.timed('detect', () => this.analyze(incoming.file, name));
      } else analyzed = await this.timed('detect', () => this.analyze(incoming.file, name, incoming));
      await downloaded;
      await incoming.tail;
      await warming;
      return analyzed;
    } catch (e) {
      incoming.abort();
      await Promise.allSettled([incoming.done, incoming.tail]);
      throw e;
    }
  }

  /** gzip by its magic bytes, with a cap against gzip bombs. */
  private async decompress(raw: string): Promise<string> {
    return this.timed('decompress', async () => {
      const text = path.join(this.workDir, 'upload.csv');
      await gunzip(raw, text, config().maxUploadBytes * MAX_UNCOMPRESSED_FACTOR);
      fs.rmSync(raw);
      return text;
    });
  }

  /**
   * Encoding, dialect and the pass over every record; the conversion starts with the sample's
   * types meanwhile when it can. Fails fast on schema drift (checked again atomically at commit).
   */
  private async analyze(textFile: string, name: string, incoming?: IncomingFile): Promise<Analyzed> {
    const rec = this.rec;
    const hints = rec.csv ?? {};
    const opts = { badRows: rec.bad_rows, workDir: this.workDir, hints };
    const arriving = incoming && { size: incoming.size, available: (pos: number) => incoming.available(pos) };
    const currentP = readCatalogHead(name);
    currentP.catch(() => undefined);
    let text = await openText(textFile, this.workDir, { hint: hints.encoding, arriving });
    // still the arriving file (not a transcoded copy): the plan needs its tail, the scan waits for its bytes
    const live = incoming && text.file === incoming.file ? incoming : undefined;
    if (live) await live.tail;
    // `thread`: the worker plans, then scans, while this thread keeps receiving the download
    const inThread = live && scansInThread(live.size) ? await planInThread(text, hints, rec.bad_rows, live.progress) : undefined;
    let plan = inThread?.plan ?? planTable(text, hints);
    // the conversion starts beside the scan (it may first wait for the rest of a small file)
    const earlyP = EarlyConversion.start(plan, this.workDir, live && { complete: live.complete, ...arriving! });
    earlyP.catch(() => undefined);
    let early: EarlyConversion | undefined;
    // a file on disk is scanned synchronously: DuckDB must have the statement before the scan starts
    if (!live || live.complete) early = await earlyP;
    try {
      let a: Analysis;
      try {
        a = inThread ? await scannedTable(plan, opts, inThread.scan, arriving!.available) : await scanTable(plan, opts, live && arriving!.available);
        early = await earlyP;
      } catch (e) {
        if (!(e instanceof NotUtf8Error) || hints.encoding === 'utf-8') throw e;
        // bytes deep in the file are not UTF-8: transcode (the whole file) and start over
        await (await earlyP)?.cancel();
        await incoming?.done;
        text = await retranscode(text, e, this.workDir);
        plan = planTable(text, hints);
        a = await scanTable(plan, opts);
      }
      let fp = fingerprint(a.columns);
      const current = await currentP;
      if (conflicts(current, fp, rec.schema_change)) throw schemaConflict(name, current!, a.columns, fp);
      if (current && rec.schema_change === 'evolve' && current.schema_fingerprint !== fp) {
        // a column the dataset holds as text is written as text: its bytes, not a cast's rendering
        const stored = storageTypes(a.columns, evolveSchema(current.schema, a.columns).schema);
        if (stored.some((c, i) => c.type !== a.columns[i]!.type)) {
          a = { ...a, columns: stored };
          fp = fingerprint(stored);
        }
      }
      return { a, fp, current, early };
    } catch (e) {
      await (early ?? (await earlyP.catch(() => undefined)))?.cancel();
      throw e;
    }
  }

  /** Keeps the early conversion if the scan confirmed it, else converts with the final types. */
  private async convert(a: Analysis, early: EarlyConversion | undefined, parquet: string): Promise<{ rows: number; overlapped: boolean; streamed: boolean }> {
    let rows = early ? await early.keep(a) : undefined;
    const overlapped = rows !== undefined;
    const streamed = overlapped && early!.streamed;
    if (overlapped) fs.renameSync(early!.output, parquet);
    else {
      const input = prepareInput(a, this.workDir);
      rows = await csvToParquet({
        input: input.file,
        output: parquet,
        dialect: input.dialect,
        header: input.header,
        columns: a.columns,
        maxRecordBytes: a.scan.maxRecordBytes,
      });
    }
    if (rows !== a.scan.records) {
      throw new LakehouseError('internal', `Converter and scanner disagree on the row count (${rows} vs ${a.scan.records}); nothing was ingested.`);
    }
    return { rows, overlapped, streamed };
  }
}
