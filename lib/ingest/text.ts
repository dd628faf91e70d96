/**
 * openText(): the first phase of the analysis — what the bytes are. Encoding marks (a UTF-8 BOM;
 * UTF-16 BOMs and Windows-1252 are transcoded to a UTF-8 copy), the binary check, empty files, and
 * the head sample the plan (plan.ts) detects the dialect and the table from. Works on a file still
 * arriving: it waits for the bytes it reads (`available`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { ingestError, looksBinary, plausibleWindows1252, readBytes, transcode } from './prepare.js';
import type { NotUtf8Error } from './analyze.js';

export const HEAD_BYTES = 1024 * 1024;
/** The head sample grows (up to this) until it holds enough whole lines: a 2 MB header line exists. */
const MAX_HEAD_BYTES = 64 * 1024 * 1024;
const HEAD_MIN_LINES = 50;

export interface TextFile {
  /** A UTF-8 file (the input, or a transcoded copy). */
  file: string;
  encoding: string;
  /** Bytes before the text (a UTF-8 BOM). */
  textStart: number;
  size: number;
  head: Buffer;
}

function countLines(b: Buffer, max: number): number {
  let n = 0;
  for (let i = 0; i < b.length && n < max; i++) if (b[i] === 10 || b[i] === 13) n++;
  return n;
}

/** The head sample: 1 MiB, or more until it holds enough whole lines (very long header lines). */
async function readHead(input: string, size: number, available: Available): Promise<Buffer> {
  let bytes = Math.min(size, HEAD_BYTES);
  await available(bytes);
  let head = readBytes(input, bytes);
  while (bytes < size && bytes < MAX_HEAD_BYTES && countLines(head, HEAD_MIN_LINES) < HEAD_MIN_LINES) {
    bytes = Math.min(size, bytes * 4, MAX_HEAD_BYTES);
    await available(bytes);
    head = readBytes(input, bytes);
  }
  return head;
}

/** Resolves once bytes [0, pos) of the input are on disk (a file still downloading: lib/ingest/incoming.ts). */
export type Available = (pos: number) => Promise<unknown>;
const onDisk: Available = () => Promise.resolve();

export interface OpenOptions {
  /** The encoding the upload says the file is in (a CSV hint). */
  hint?: string;
  /** For a file still arriving: its final size and when its bytes are there. */
  arriving?: { size: number; available: Available };
  encoding?: string;
  transcoded?: boolean;
}

export async function openText(input: string, workDir: string, o: OpenOptions = {}): Promise<TextFile> {
  const { hint, encoding = 'utf-8', transcoded = false } = o;
  const available = o.arriving?.available ?? onDisk;
  const size = o.arriving?.size ?? fs.statSync(input).size;
  /** Transcoding reads the whole file. */
  const whole = () => available(size);
  if (size === 0) throw ingestError('empty_file', 'The file is empty.');
  const head = await readHead(input, size, available);
  let textStart = 0;
  const utf16Bom = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  if (!transcoded && hint && hint !== 'utf-8') {
    // the upload says which encoding the file is in
    const enc = hint === 'utf-16' ? (head[0] === 0xfe && head[1] === 0xff ? 'utf-16be' : 'utf-16le') : 'windows-1252';
    const out = path.join(workDir, `transcoded-${enc}.csv`);
    await whole();
    await transcode(input, out, enc, hint === 'utf-16' && utf16Bom ? 2 : 0);
    return openText(out, workDir, { encoding: hint === 'utf-16' ? enc : hint, transcoded: true });
  }
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) textStart = 3;
  else if (!transcoded && !hint && utf16Bom) {
    const enc = head[0] === 0xff ? 'utf-16le' : 'utf-16be';
    const out = path.join(workDir, `transcoded-${enc}.csv`);
    await whole();
    await transcode(input, out, enc, 2);
    return openText(out, workDir, { encoding: enc, transcoded: true });
  }
  const text = head.subarray(textStart);
  if (looksBinary(text)) {
    throw ingestError('not_text', 'The file is not text (binary data, NUL bytes or control characters).');
  }
  if (!transcoded && !isUtf8(trimPartialUtf8(text, head.length < size))) {
    if (hint === 'utf-8') throw ingestError('not_text', 'The file is not valid UTF-8 text (the upload said it is UTF-8).');
    await whole();
    return transcodeOrFail(input, head, workDir);
  }
  if (size <= HEAD_BYTES && text.every((c) => c === 32 || c === 9 || c === 10 || c === 13)) {
    throw ingestError('empty_file', 'The file has no data (only whitespace).');
  }
  return { file: input, encoding, textStart, size, head };
}

async function transcodeOrFail(input: string, sample: Buffer, workDir: string): Promise<TextFile> {
  if (!plausibleWindows1252(sample)) {
    throw ingestError('not_text', 'The file is neither UTF-8 nor Windows-1252/Latin-1 text.');
  }
  const out = path.join(workDir, 'transcoded-windows-1252.csv');
  await transcode(input, out, 'windows-1252');
  return openText(out, workDir, { encoding: 'windows-1252', transcoded: true });
}

export async function retranscode(t: TextFile, e: NotUtf8Error, workDir: string): Promise<TextFile> {
  return transcodeOrFail(t.file, readBytes(t.file, 64 * 1024, Math.max(0, e.at - 1024)), workDir);
}

/** Drops a UTF-8 sequence cut off at the end of a sample (the file goes on). */
function trimPartialUtf8(b: Buffer, cut: boolean): Buffer {
  if (!cut) return b;
  let i = b.length - 1;
  let n = 0;
  while (i >= 0 && n < 4 && (b[i]! & 0xc0) === 0x80) {
    i--;
    n++;
  }
  if (i >= 0 && b[i]! >= 0xc0) return b.subarray(0, i);
  return b;
}
