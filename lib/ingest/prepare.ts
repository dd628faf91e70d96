/**
 * File-level steps around the scan: gzip by magic bytes, encoding (UTF-8 BOM, UTF-16 BOMs,
 * Windows-1252 transcoding), binary detection, and writing the exact bytes DuckDB should read
 * when the table is not the whole file (preamble, footer, comments, blank lines, quarantined rows)
 * or when its shape is one DuckDB cannot read as is (padded fields, mixed line endings).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LakehouseError } from '../errors.js';
import type { ScannedRecord, Dialect, ScanOptions, BadRecord } from './scan.js';
import { scanFile } from './scan-file.js';
import type { Analysis } from './analyze.js';

export function ingestError(code: string, message: string, details?: Record<string, unknown>): LakehouseError {
  return new LakehouseError(code, message, details);
}

/** Up to `bytes` bytes of a file from `offset`. */
export function readBytes(file: string, bytes: number, offset = 0): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, offset);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

export function isGzip(file: string): boolean {
  const h = readBytes(file, 3);
  return h.length >= 3 && h[0] === 0x1f && h[1] === 0x8b && h[2] === 0x08;
}

/** Decompresses a gzip file, refusing output beyond maxBytes (gzip bombs). */
export async function gunzip(input: string, output: string, maxBytes: number): Promise<number> {
  let total = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > maxBytes) {
        cb(ingestError('too_large', `The decompressed file exceeds the ${maxBytes}-byte limit.`, { limit_bytes: maxBytes }));
        return;
      }
      cb(null, chunk);
    },
  });
  try {
    await pipeline(fs.createReadStream(input), zlib.createGunzip(), limiter, fs.createWriteStream(output));
  } catch (e) {
    if (e instanceof LakehouseError) throw e;
    throw ingestError('not_text', 'The file looks like gzip but could not be decompressed (corrupt or truncated).');
  }
  return total;
}

/** Transcodes a whole file with a WHATWG decoder (windows-1252, utf-16le, utf-16be) to UTF-8. */
export async function transcode(input: string, output: string, encoding: string, skip = 0): Promise<void> {
  const decoder = new TextDecoder(encoding);
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(cb) {
      cb(null, Buffer.from(decoder.decode(), 'utf8'));
    },
  });
  await pipeline(fs.createReadStream(input, { start: skip }), t, fs.createWriteStream(output));
}

/** Does this look like binary data rather than text? */
export function looksBinary(head: Buffer): boolean {
  if (head.length === 0) return false;
  if (head.indexOf(0) >= 0) return true;
  let ctrl = 0;
  // an indexed loop: a Buffer's iterator costs ~8 ms per MiB, this well under one
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) ctrl++;
  }
  return ctrl / head.length > 0.01;
}

/** Could these (non-UTF-8) bytes be Windows-1252 text? No C0 controls but tab/CR/LF. */
export function plausibleWindows1252(head: Buffer): boolean {
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f) return false;
  }
  return true;
}

class BufferedWriter {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
    if (this.size > 4 * 1024 * 1024) this.flush();
  }
  flush(): void {
    if (this.size === 0) return;
    fs.writeSync(this.fd, Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}

/** Copies [start, end) of a file, leaving out the excluded byte ranges (sorted or not). */
function copyRanges(input: string, output: string, start: number, end: number, exclude: ReadonlyArray<readonly [number, number]>): void {
  const ex = exclude.filter(([s, e]) => e > start && s < end).sort((a, b) => a[0] - b[0]);
  const keep: Array<[number, number]> = [];
  let pos = start;
  for (const [s, e] of ex) {
    if (s > pos) keep.push([pos, s]);
    pos = Math.max(pos, e);
  }
  if (pos < end) keep.push([pos, end]);
  const inFd = fs.openSync(input, 'r');
  const outFd = fs.openSync(output, 'w');
  try {
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (const [s, e] of keep) {
      let p = s;
      while (p < e) {
        const n = fs.readSync(inFd, buf, 0, Math.min(buf.length, e - p), p);
        if (n <= 0) break;
        fs.writeSync(outFd, buf, 0, n);
        p += n;
      }
    }
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
  }
}

const QUOTE_NEEDED = /[",\r\n]|^\s|\s$/;

function csvCell(v: string): string {
  return QUOTE_NEEDED.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Re-emits every good record of [start, end) as canonical CSV (comma, double quotes, LF), cells
 * decoded and trimmed as the dialect says; the header record is left out (the columns are named
 * by the caller). Returns the records written.
 */
function writeCanonical(
  input: string,
  output: string,
  start: number,
  end: number,
  opts: Omit<ScanOptions, 'sink' | 'keepGoing'>,
): number {
  const outFd = fs.openSync(output, 'w');
  const w = new BufferedWriter(outFd);
  let records = 0;
  try {
    scanFile(input, start, end, {
      ...opts,
      keepGoing: true,
      sink: {
        record(rec: ScannedRecord, isHeader: boolean) {
          if (isHeader) return;
          const cells: string[] = [];
          for (let j = 0; j < rec.fields; j++) cells.push(csvCell(rec.text(j)));
          // a lone empty cell must not look like a blank line
          const line = cells.length === 1 && cells[0] === '' ? '""' : cells.join(',');
          w.write(Buffer.from(line + '\n', 'utf8'));
          records++;
        },
      },
    });
    w.flush();
  } finally {
    fs.closeSync(outFd);
  }
  return records;
}

/** The quarantine file: line, reason, and the record verbatim. */
export function writeRejects(input: string, output: string, bad: readonly BadRecord[]): void {
  const inFd = fs.openSync(input, 'r');
  const outFd = fs.openSync(output, 'w');
  const w = new BufferedWriter(outFd);
  try {
    w.write(Buffer.from('line,reason,record\n'));
    for (const r of bad) {
      const len = r.end - r.start;
      const raw = Buffer.allocUnsafe(len);
      fs.readSync(inFd, raw, 0, len, r.start);
      let text = raw.toString('utf8');
      text = text.replace(/\r\n$|\n$|\r$/, '');
      w.write(Buffer.from(`${r.line},${csvCell(r.reason)},${csvCell(text)}\n`, 'utf8'));
    }
    w.flush();
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
  }
}

/**
 * The file DuckDB reads: the input itself when the table is the whole file in a shape DuckDB reads
 * as is; else a copy without the skipped byte ranges (preamble, footer, comments, blank lines,
 * extra header rows, quarantined rows); else (padded fields, mixed line endings, a header with
 * another field count) a canonical re-emission of the records without the header.
 */
export function prepareInput(a: Analysis, workDir: string): { file: string; dialect: Dialect; header: boolean } {
  if (!a.needsCopy) return { file: a.file, dialect: a.dialect, header: a.header };
  const out = path.join(workDir, 'table.csv');
  if (a.needsCanonical) {
    writeCanonical(a.file, out, a.start, a.end, {
      dialect: a.dialect,
      header: a.header,
      headerRows: a.detection.headerRows,
      fields: a.fields,
      firstLine: a.detection.tableLine,
    });
    return { file: out, dialect: { delimiter: 44, quote: 34, escape: 34, comment: -1, trim: false }, header: false };
  }
  const exclude: Array<readonly [number, number]> = [...a.scan.skipped, ...a.scan.bad.map((b) => [b.start, b.end] as [number, number])];
  copyRanges(a.file, out, a.start, a.end, exclude);
  return { file: out, dialect: { ...a.dialect, comment: -1 }, header: a.header };
}

export type { Dialect };
