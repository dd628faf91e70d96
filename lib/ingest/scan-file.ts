/**
 * The whole-file pass over a local file: the Scanner (scan.ts) fed in fixed-size chunks, so memory
 * stays bounded whatever the file size. UTF-8 is validated and NUL bytes refused on the way
 * (reported through scanner.invalidUtf8At / nulAt, which stop the scan).
 *
 * Two drivers share one chunk step: scanFile() reads a complete file; scanGrowingFile() reads a
 * file that is still being downloaded, waiting for each chunk's bytes to arrive (lib/ingest/incoming.ts),
 * so the scan runs while the upload downloads.
 */
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { MAX_RECORD_BYTES, Scanner, type ScanOptions, type ScanResult } from './scan.js';

const CHUNK = 8 * 1024 * 1024;
/**
 * A file still downloading is scanned in 1 MiB steps: the scan shares the event loop with the
 * download, and a long step stalls the socket (an 8 MiB step held it ~40 ms at a time).
 */
export const GROWING_CHUNK = 1024 * 1024;

/** One pass over bytes [start, end) of a file, a chunk per step. */
export class ChunkedScan {
  readonly scanner: Scanner;
  private readonly fd: number;
  private buf: Buffer;
  private filled = 0; // bytes in buf
  private base: number; // absolute offset of buf[0]
  private readPos: number;

  constructor(
    file: string,
    start: number,
    private readonly end: number,
    opts: ScanOptions,
    chunkSize: number,
  ) {
    this.scanner = new Scanner(opts);
    this.fd = fs.openSync(file, 'r');
    this.buf = Buffer.allocUnsafe(chunkSize);
    this.base = start;
    this.readPos = start;
  }

  /** The file offset the next step reads up to (exclusive). */
  nextEnd(): number {
    const room = this.filled === this.buf.length ? this.buf.length : this.buf.length - this.filled;
    return Math.min(this.end, this.readPos + room);
  }

  /** Reads and scans one chunk; false when the pass is over (the end, or a stop). */
  step(): boolean {
    const { scanner } = this;
    if (this.filled === this.buf.length) {
      if (this.buf.length >= MAX_RECORD_BYTES * 2) throw new Error('record too large');
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.filled);
      this.buf = bigger;
    }
    const want = Math.min(this.buf.length - this.filled, this.end - this.readPos);
    const n = want > 0 ? fs.readSync(this.fd, this.buf, this.filled, want, this.readPos) : 0;
    const prevFilled = this.filled;
    this.filled += n;
    this.readPos += n;
    const final = this.readPos >= this.end || n === 0;
    // binary and encoding checks on the new bytes
    if (scanner.nulAt < 0) {
      const z = this.buf.subarray(prevFilled, this.filled).indexOf(0);
      if (z >= 0) {
        scanner.nulAt = this.base + prevFilled + z;
        scanner.stopped = true;
        return false;
      }
    }
    const consumed = scanner.scan(this.buf, 0, this.filled, this.base, final);
    if (scanner.invalidUtf8At < 0 && !isUtf8(this.buf.subarray(0, consumed))) {
      scanner.invalidUtf8At = this.base + firstInvalidUtf8(this.buf.subarray(0, consumed));
      scanner.stopped = true;
    }
    if (scanner.stopped || final) {
      scanner.offset = this.base + consumed;
      return false;
    }
    // carry the incomplete record to the front
    this.buf.copy(this.buf, 0, consumed, this.filled);
    this.filled -= consumed;
    this.base += consumed;
    return true;
  }

  finish(): ScanResult {
    fs.closeSync(this.fd);
    this.scanner.finish();
    return this.scanner.result();
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/** Scans bytes [start, end) of a complete file. */
export function scanFile(file: string, start: number, end: number, opts: ScanOptions, chunkSize = CHUNK): ScanResult {
  const pass = new ChunkedScan(file, start, end, opts, chunkSize);
  try {
    while (pass.step());
  } catch (e) {
    pass.close();
    throw e;
  }
  return pass.finish();
}

/**
 * Scans bytes [start, end) of a file that is still being written: before each chunk it waits
 * until `available(pos)` says the bytes up to `pos` are on disk (it rejects if the download
 * failed), and it yields to the event loop between chunks so the download keeps flowing.
 */
export async function scanGrowingFile(
  file: string,
  start: number,
  end: number,
  opts: ScanOptions,
  available: (pos: number) => Promise<unknown>,
  chunkSize = GROWING_CHUNK,
): Promise<ScanResult> {
  const pass = new ChunkedScan(file, start, end, opts, chunkSize);
  try {
    for (;;) {
      await available(pass.nextEnd());
      if (!pass.step()) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (e) {
    pass.close();
    throw e;
  }
  return pass.finish();
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (slow path, errors only). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) need = 2;
    else if (c >= 0xf0 && c <= 0xf4) need = 3;
    else return i;
    if (i + need >= b.length + 0 && i + need > b.length - 1 + 1) return i;
    for (let k = 1; k <= need; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return b.length;
}
