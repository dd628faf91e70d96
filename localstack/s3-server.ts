/**
 * The embedded S3-compatible server (s3rver) used by `npm start` and by the test harness.
 * Binds to 127.0.0.1 only; data lives in a directory of the caller's choosing.
 * See docs/toolchain.md for what it does not enforce (signatures, sizes, conditional writes).
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';
import { answerNotModified, enforceIfNoneMatch } from './conditional.js';
import { atomicWrites } from './atomic-writes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** localstack/cors.xml, from this module or from npm start's bundle in dist/. */
const corsFile = [path.join(here, 'cors.xml'), path.join(here, '..', 'localstack', 'cors.xml')].find((f) => fs.existsSync(f))!;

export interface S3ServerOptions {
  port?: number;
  directory: string;
  buckets?: string[];
  silent?: boolean;
  /** Honour PUT If-None-Match:* like AWS (off by default: s3rver ignores it). */
  conditionalWrites?: boolean;
  /** With conditionalWrites, also honour PUT If-Match:<etag> (compare-and-swap), as AWS does. */
  ifMatch?: boolean;
}

export interface S3ServerHandle {
  endpoint: string;
  port: number;
  server: S3rver;
  close(): Promise<void>;
}

export const LOCAL_ACCESS_KEY = 'S3RVER';
export const LOCAL_SECRET_KEY = 'S3RVER';

export async function startS3Server(opts: S3ServerOptions): Promise<S3ServerHandle> {
  fs.mkdirSync(opts.directory, { recursive: true });
  const cors = fs.readFileSync(corsFile);
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    directory: opts.directory,
    silent: opts.silent ?? true,
    vhostBuckets: false,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [cors] })),
  });
  if (opts.conditionalWrites) enforceIfNoneMatch(server, { ifMatch: opts.ifMatch });
  answerNotModified(server);
  // last: outermost, so the conditional checks above run inside the write's turn
  atomicWrites(server);
  cacheBucketConfigs(server);
  readInLargeChunks(server);
  const addr = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    server,
    close: () => server.close(),
  };
}

type Store = Record<'getSubresource' | 'putSubresource' | 'deleteSubresource', (bucket: string, key: string | undefined, x: unknown) => Promise<unknown>> & {
  deleteBucket: (bucket: string) => Promise<unknown>;
};

/**
 * s3rver reads the bucket's CORS and website documents from disk and parses them on every request
 * (its cors and website middlewares): two file reads and an XML parse per request, the largest
 * share of its own per-request work on a small ingest (profiled, BASELINE.md "Many small uploads").
 * Bucket-level documents are kept in memory here, dropped when they are written or deleted.
 */
function cacheBucketConfigs(server: S3rver): void {
  const store = (server as unknown as { store: Store }).store;
  const get = store.getSubresource.bind(store);
  const put = store.putSubresource.bind(store);
  const del = store.deleteSubresource.bind(store);
  const dropBucket = store.deleteBucket.bind(store);
  const cached = new Map<string, Promise<unknown>>();
  store.getSubresource = (bucket, key, type) => {
    if (key !== undefined) return get(bucket, key, type);
    const id = `${bucket}\0${String(type)}`;
    let p = cached.get(id);
    if (!p) {
      p = get(bucket, key, type);
      cached.set(id, p);
      p.catch(() => cached.delete(id));
    }
    return p;
  };
  store.putSubresource = async (bucket, key, resource) => {
    if (key === undefined) cached.delete(`${bucket}\0${(resource as { type: string }).type}`);
    await put(bucket, key, resource);
    if (key === undefined) cached.delete(`${bucket}\0${(resource as { type: string }).type}`);
  };
  store.deleteSubresource = async (bucket, key, type) => {
    if (key === undefined) cached.delete(`${bucket}\0${String(type)}`);
    await del(bucket, key, type);
    if (key === undefined) cached.delete(`${bucket}\0${String(type)}`);
  };
  store.deleteBucket = async (bucket) => {
    try {
      return await dropBucket(bucket);
    } finally {
      for (const id of cached.keys()) if (id.startsWith(`${bucket}\0`)) cached.delete(id);
    }
  };
}

/** Chunk of a GET's content stream. */
const GET_CHUNK = 1024 * 1024;

type ObjectStore = { getObject: (bucket: string, key: string, options?: unknown) => Promise<{ content?: unknown } | null | undefined> };

/**
 * s3rver streams a GET's content with fs.createReadStream's default 64 KiB chunks: serving a 56 MB
 * object cost ~150 ms of the server's CPU (some 860 reads and socket writes), as much as the client
 * spends receiving it; with 1 MiB chunks, ~45 ms (docs/toolchain.md). The content stream s3rver
 * opened is replaced by one over the same byte range in larger chunks. It is reopened by path,
 * which is safe: the read holds its key's read lock (atomic-writes.ts) until the response is sent,
 * so no PUT can rename another version over the object in between.
 */
function readInLargeChunks(server: S3rver): void {
  const store = (server as unknown as { store: ObjectStore }).store;
  const get = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await get(bucket, key, options);
    const content = object?.content;
    if (!(content instanceof fs.ReadStream)) return object;
    const { start, end } = content as fs.ReadStream & { start?: unknown; end?: unknown };
    if (typeof start !== 'number' || typeof end !== 'number') return object;
    const larger = fs.createReadStream(content.path, { start, end, highWaterMark: GET_CHUNK });
    try {
      await once(larger, 'open');
    } catch {
      larger.destroy();
      return object;
    }
    content.destroy();
    object!.content = larger;
    return object;
  };
}

/** The CORS document, for buckets created after start. */
export function corsXml(): string {
  return fs.readFileSync(corsFile, 'utf8');
}
