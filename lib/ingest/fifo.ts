/**
 * A named pipe that feeds DuckDB a file still being downloaded (ADR 0014): DuckDB reads the pipe
 * as it reads a file, and a pump copies the downloaded bytes into it as they arrive. DuckDB
 * reads a pipe in one pass, never seeking, so what it converts is exactly the byte sequence of
 * the upload.
 *
 * No pipe (a system without `mkfifo`) means no streaming: the caller converts from the file once
 * it is complete. The pump never blocks the event loop (the pipe is written through a
 * non-blocking socket), and it stops when DuckDB stops reading (the conversion ended or was
 * cancelled) instead of waiting on a pipe nobody drains.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHUNK = 1024 * 1024;

/** Creates a named pipe at `file`; false when the system cannot. */
export async function makeFifo(file: string): Promise<boolean> {
  try {
    await run('mkfifo', ['-m', '600', file]);
    return true;
  } catch {
    return false;
  }
}

export interface Pump {
  /** Resolves when every byte went into the pipe, or the pump stopped; never rejects. */
  done: Promise<void>;
  /** Stops pumping, removes the pipe's name and closes it: DuckDB's open fails or it reads an end of file. */
  stop(): void;
}

/**
 * Opens the pipe at `fifo` for writing and copies bytes [0, size) of `source` into it, each chunk
 * once `available` says it is on disk. Call it before DuckDB opens the pipe: the pipe is opened
 * read-write (which never blocks on Linux), so DuckDB's open never waits for a writer, and closing
 * it is DuckDB's end of file, whatever happened. Nothing reads through this end.
 */
export function pumpInto(fifo: string, source: string, size: number, available: (pos: number) => Promise<unknown>): Pump {
  const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: false, writable: true });
  let stopped = false;
  let onStop: () => void = () => undefined;
  const halted = new Promise<void>((resolve) => (onStop = resolve));
  const stop = () => {
    if (stopped) return;
    stopped = true;
    // DuckDB may not have opened the pipe yet: with the name gone its open fails (the statement
    // ends) instead of blocking for a writer that will never come; if it has, closing is its end of file
    fs.rmSync(fifo, { force: true });
    sock.destroy();
    onStop();
  };
  sock.on('error', stop);
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  const done = (async () => {
    let src: fs.promises.FileHandle | undefined;
    try {
      src = await fs.promises.open(source, 'r');
      for (let pos = 0; pos < size && !stopped; ) {
        const n = Math.min(CHUNK, size - pos);
        await Promise.race([available(pos + n), halted]);
        if (stopped) break;
        const buf = Buffer.allocUnsafe(n);
        const { bytesRead } = await src.read(buf, 0, n, pos);
        if (stopped || bytesRead === 0) break;
        if (!sock.write(buf.subarray(0, bytesRead))) {
          await Promise.race([new Promise<void>((resolve) => sock.once('drain', () => resolve())), closed]);
        }
        pos += bytesRead;
      }
    } catch {
      // the download failed: DuckDB reads a short file; the job reports the download's error
    } finally {
      await src?.close();
      if (!sock.destroyed) sock.end();
    }
  })();
  return { done, stop };
}
