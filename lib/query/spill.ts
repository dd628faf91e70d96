/**
 * A result that does not fit inline goes whole to a file in the request's scratch directory, then
 * to results/<query_id>.<ext>. dispose() closes the descriptor and removes the file whatever
 * happened; it is safe to call more than once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config.js';
import { presignGet, uploadFile } from '../storage/objects.js';
import { keys } from '../storage/keys.js';
import { MEDIA_TYPES, type Format } from './request.js';

export class Spill {
  readonly file: string;
  private fd: number | undefined;

  constructor(dir: string, name: string) {
    this.file = path.join(dir, name);
    this.fd = fs.openSync(this.file, 'w');
  }

  write(s: string | Buffer): void {
    if (this.fd === undefined) throw new Error('spill file already closed');
    fs.writeSync(this.fd, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }

  dispose(): void {
    try {
      this.close();
    } finally {
      fs.rmSync(this.file, { force: true });
    }
  }
}

/** Uploads a finished result file to results/ and returns its presigned URL. */
export async function publish(file: string, format: Format, queryId: string): Promise<string> {
  const ext = format;
  const key = keys.result(queryId, ext);
  await uploadFile(key, file, MEDIA_TYPES[format]);
  return presignGet(key, config().resultUrlTtlSeconds, `${queryId}.${ext}`);
}

/**
 * A private directory for one request's files under the engine's scratch directory, created on
 * first use: most queries answer inline and never need it, and a mkdir + recursive rm per request
 * cost ~0.3–1.5 ms of synchronous file-system calls on the request path (measured, BASELINE.md).
 */
export function requestDir(scratchDir: string, queryId: string): { dir: () => string; remove: () => void } {
  const dir = path.join(scratchDir, queryId);
  let made = false;
  return {
    dir: () => {
      if (!made) fs.mkdirSync(dir, { recursive: true });
      made = true;
      return dir;
    },
    remove: () => {
      if (made) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
