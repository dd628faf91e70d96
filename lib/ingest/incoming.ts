/**
 * The uploaded object arriving on local disk, readable while it arrives (ADR 0014).
 *
 * One GET streams the object into a local file; readers (the head sample, the whole-file scan,
 * the FIFO that feeds DuckDB) ask `available(pos)` and read the file itself once the bytes up to
 * `pos` are written. A second, ranged GET puts the last `tailBytes` at their place in the file at
 * once, because the table plan looks at the end of the file (footer lines) before the body has
 * arrived; the body's own bytes later overwrite that range with the same bytes (both GETs are
 * pinned to the ETag the ingest saw, so they are the same object).
 *
 * Nothing here decides anything about the data: a failed or short download rejects every waiter,
 * and `done` is the whole object on disk, its size checked against the HEAD.
 */
import fs from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LakehouseError } from '../errors.js';
import { getObjectStream, type Head } from '../storage/objects.js';
import { SharedProgress } from './scan-thread.js';

interface Waiter {
  pos: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class IncomingFile {
  /** Bytes of the body written so far (from offset 0, contiguous). */
  private written = 0;
  private failure: unknown;
  private waiters: Waiter[] = [];
  private body: Readable | undefined;
  private aborted = false;
  /** The whole object is on disk (size checked). */
  readonly done: Promise<void>;
  /** The local file exists. */
  private readonly created: Promise<void>;
  /** The last `tailBytes` are on disk at their place (resolves at once when the body covers them). */
  readonly tail: Promise<void>;
  /** When the download started and when its last body byte was written (ms since the epoch), for the phase timings. */
  readonly startedAt = Date.now();
  finishedAt = 0;
  /** The bytes written, shared with a scan in a worker thread (scan-thread.ts). */
  readonly progress = new SharedProgress();

  private constructor(
    readonly key: string,
    readonly file: string,
    readonly size: number,
    private readonly etag: string | undefined,
    tailBytes: number,
  ) {
    const fh = fs.promises.open(file, 'w');
    this.created = fh.then(() => undefined);
    this.created.catch(() => undefined);
    this.done = this.download(fh);
    this.done.catch(() => undefined);
    // small objects: the body is the tail, no second request
    this.tail = size > tailBytes * 4 ? this.fetchTail(fh, size - tailBytes) : this.available(size);
    this.tail.catch(() => undefined);
    // the file handle is closed once both writers are through
    void Promise.allSettled([this.done, this.tail]).then(async () => (await fh.catch(() => undefined))?.close());
  }

  /** Starts downloading `key` (whose HEAD is `head`) into `file`. */
  static start(key: string, file: string, head: Head, tailBytes: number): IncomingFile {
    return new IncomingFile(key, file, head.size, head.etag, tailBytes);
  }

  /**
   * Resolves once bytes [0, pos) are on disk (the file exists then, even for an empty object);
   * rejects if the download failed or was aborted.
   */
  available(pos: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.written >= Math.min(pos, this.size)) return this.created;
    return new Promise((resolve, reject) => this.waiters.push({ pos: Math.min(pos, this.size), resolve, reject }));
  }

  /** Is every byte on disk? */
  get complete(): boolean {
    return this.written >= this.size;
  }

  /** Stops the download (a failed ingest); waiters reject. */
  abort(): void {
    if (this.aborted || this.complete) return;
    this.aborted = true;
    this.fail(new LakehouseError('internal', 'download aborted', undefined, false));
    this.body?.destroy();
  }

  private async download(fhP: Promise<fs.promises.FileHandle>): Promise<void> {
    try {
      const fh = await fhP;
      this.body = await getObjectStream(this.key, { etag: this.etag });
      if (this.aborted) this.body.destroy();
      // chunks that arrive while a write is in flight are written together, without a copy (writev)
      const write = (chunks: Buffer[], done: (e?: Error | null) => void) => {
        const length = chunks.reduce((n, c) => n + c.length, 0);
        if (this.written + length > this.size) return done(changed());
        const written = chunks.length === 1 ? fh.write(chunks[0]!, 0, length, this.written) : fh.writev(chunks, this.written);
        written.then(
          ({ bytesWritten }) => {
            // a short write to a local file (a full disk) is a failure, not a partial file
            if (bytesWritten !== length) return done(new Error(`short write to the local file (${bytesWritten} of ${length} bytes)`));
            this.written += length;
            this.progress.set(this.written);
            this.wake();
            done();
          },
          (e: Error) => done(e),
        );
      };
      await pipeline(
        this.body,
        new Writable({
          highWaterMark: 4 * 1024 * 1024,
          write: (chunk: Buffer, _enc, done) => write([chunk], done),
          writev: (chunks, done) => write(chunks.map((c) => c.chunk as Buffer), done),
        }),
      );
      if (this.written !== this.size) throw changed();
      this.finishedAt = Date.now();
      this.wake();
    } catch (e) {
      this.fail(this.aborted ? new LakehouseError('internal', 'download aborted', undefined, false) : e);
      throw this.failure;
    }
  }

  private async fetchTail(fhP: Promise<fs.promises.FileHandle>, from: number): Promise<void> {
    const fh = await fhP;
    const body = await getObjectStream(this.key, { etag: this.etag, range: [from, this.size] });
    let at = from;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (at + chunk.length > this.size) throw changed();
      await fh.write(chunk, 0, chunk.length, at);
      at += chunk.length;
    }
    if (at !== this.size) throw changed();
  }

  private wake(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.written >= w.pos) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    this.progress.fail();
    for (const w of this.waiters) w.reject(e);
    this.waiters = [];
  }
}

function changed(): LakehouseError {
  return new LakehouseError('object_changed', 'The uploaded object changed while it was read (its size is not the one its HEAD gave).');
}
