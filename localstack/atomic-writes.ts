/**
 * Makes an embedded server's PUTs atomic for readers, as S3's are (docs/toolchain.md): s3rver
 * writes in place, answers before the content is flushed, and writes the MD5 and metadata after.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';
import type { KoaCtx, Next } from './conditional.js';

/**
 * A PUT is atomic for readers, as on S3: s3rver writes an object's content in place, then its MD5
 * file and metadata, so a GET in between read a truncated body or one with an empty ETag (a status
 * record rewritten while a `?wait=` request re-reads it every 25 ms). Per key, a readers-writer
 * lock: writes (PUT, POST — a multipart completion —, DELETE) run one at a time, after the reads
 * already running; reads (GET, HEAD) run together, after the write in flight. Installed outermost,
 * so the other middlewares run inside it.
 */
export function atomicWrites(server: S3rver): void {
  writeContentWhole(server);
  const locks = new Map<string, { write: Promise<void>; writes: number; reads: Set<Promise<unknown>> }>();
  const lockOf = (id: string) => {
    let l = locks.get(id);
    if (!l) locks.set(id, (l = { write: Promise.resolve(), writes: 0, reads: new Set() }));
    return l;
  };
  const tidy = (id: string) => {
    const l = locks.get(id);
    if (l && l.writes === 0 && l.reads.size === 0) locks.delete(id);
  };
  const mw = async (ctx: KoaCtx, next: Next) => {
    const parts = ctx.path.split('/').filter(Boolean);
    if (parts.length < 2) return next();
    const id = parts.map(decodeURIComponent).join('/');
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      // after every write queued so far; then registered with no await in between (a write that
      // arrives later waits for this read). The entry is looked up again after each wait: a
      // finished write's entry may have been dropped and a new write started on a new one.
      let lock = lockOf(id);
      while (lock.writes > 0) {
        await lock.write;
        lock = lockOf(id);
      }
      // a read lasts until its response is sent: koa streams the body after the middlewares return,
      // and the file is opened then
      const res = (ctx as unknown as { res: NodeJS.EventEmitter }).res;
      const sent = new Promise<void>((resolve) => {
        res.once('finish', () => resolve());
        res.once('close', () => resolve());
      });
      lock.reads.add(sent);
      void sent.then(() => {
        lock.reads.delete(sent);
        tidy(id);
      });
      return next();
    }
    if (ctx.method !== 'PUT' && ctx.method !== 'POST' && ctx.method !== 'DELETE') return next();
    const lock = lockOf(id);
    const before = lock.write;
    const reads = [...lock.reads];
    let release!: () => void;
    lock.write = new Promise<void>((r) => (release = r));
    lock.writes++;
    try {
      await before;
      await Promise.all(reads);
      await next();
    } finally {
      release();
      lock.writes--;
      tidy(id);
    }
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(mw);
}

type ObjectToStore = { bucket: string; key: string; content: Buffer | Readable; metadata: Record<string, string> };
type FsStore = {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: ObjectToStore): Promise<{ size: number; md5: string }>;
};

/**
 * s3rver's putObject answers before its write stream has flushed the content (it waits for its MD5
 * transform, not for the file), so even a GET after the PUT's response could read a short body.
 * Here the content goes to a temporary sibling (invisible to listings, which only see
 * `._S3rver_object` files), is flushed, then renamed over the object; then the MD5 and metadata.
 */
function writeContentWhole(server: S3rver): void {
  const store = (server as unknown as { store: FsStore }).store;
  store.putObject = async function putObject(this: FsStore, object: ObjectToStore) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
    const tmp = `${objectPath}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    const md5 = crypto.createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, count, fs.createWriteStream(tmp));
      await fs.promises.rename(tmp, objectPath);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}
