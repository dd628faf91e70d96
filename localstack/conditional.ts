/**
 * Makes an embedded server honour conditional PUTs the way AWS S3 does (412
 * PreconditionFailed when the key exists), so both catalog commit paths can be tested locally.
 * Conditional PUTs to one key are serialised, as S3 does server-side.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';

type KoaCtx = {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  status: number;
  type: string;
  body: unknown;
};
type Next = () => Promise<void>;

/**
 * `If-None-Match: *` (412 when the key exists) and, with `ifMatch`, `If-Match: <etag>` (412 unless
 * the object exists with that ETag) on PUT, as AWS S3 does.
 */
export function enforceIfNoneMatch(server: S3rver, opts: { ifMatch?: boolean } = {}): void {
  const store = (server as unknown as {
    store: { existsObject(b: string, k: string): Promise<boolean>; getMetadata(b: string, k: string): Promise<{ etag: string }> };
  }).store;
  const chains = new Map<string, Promise<void>>();
  const mw = async (ctx: KoaCtx, next: Next) => {
    const inm = ctx.headers['if-none-match'];
    const im = opts.ifMatch ? ctx.headers['if-match'] : undefined;
    if (ctx.method !== 'PUT' || (inm !== '*' && im === undefined) || 'uploadId' in ctx.query) return next();
    const parts = ctx.path.split('/').filter(Boolean);
    const bucketName = decodeURIComponent(parts[0] ?? '');
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    const id = `${bucketName}/${key}`;
    const prev = chains.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    chains.set(id, prev.then(() => mine));
    await prev;
    try {
      const exists = await store.existsObject(bucketName, key);
      let ok = !(inm === '*' && exists);
      if (ok && im !== undefined) ok = exists && (await store.getMetadata(bucketName, key)).etag.replace(/"/g, '') === im.replace(/"/g, '');
      if (!ok) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
          `<Condition>${inm === '*' ? 'If-None-Match' : 'If-Match'}</Condition></Error>`;
        return;
      }
      await next();
    } finally {
      release();
      if (chains.get(id) === mine) chains.delete(id);
    }
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(mw);
}

/**
 * `If-None-Match` on GET and HEAD answered from the object's metadata: `304 Not Modified` when the
 * ETag matches (or `*` and the object exists), as AWS S3 does. s3rver answers 304 too, but only
 * after opening the object's content, which it then never closes: one file descriptor leaked per
 * 304 (300 conditional GETs: 300 descriptors), until the server runs out of them. Plain object
 * reads only (a request with another query parameter — ?acl, ?tagging… — goes to s3rver as before).
 */
export function answerNotModified(server: S3rver): void {
  const store = (server as unknown as {
    store: { existsObject(b: string, k: string): Promise<boolean>; getMetadata(b: string, k: string): Promise<{ etag: string }> };
  }).store;
  const mw = async (ctx: KoaCtx & { set(name: string, value: string): void }, next: Next) => {
    const inm = ctx.headers['if-none-match'];
    // the SDK marks the operation in the query (x-id=GetObject): that is still a plain object read
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !inm || Object.keys(ctx.query).some((q) => q !== 'x-id')) return next();
    const parts = ctx.path.split('/').filter(Boolean);
    if (parts.length < 2) return next();
    const bucketName = decodeURIComponent(parts[0]!);
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    if (!(await store.existsObject(bucketName, key).catch(() => false))) return next();
    const etag = (await store.getMetadata(bucketName, key)).etag;
    const bare = (t: string) => t.trim().replace(/^W\//, '').replace(/"/g, '');
    const matches = inm.trim() === '*' || inm.split(',').some((t) => bare(t) === bare(etag));
    if (!matches) return next();
    ctx.status = 304;
    ctx.set('ETag', etag);
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(mw);
}

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
