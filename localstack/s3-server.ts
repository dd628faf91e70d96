/**
 * The embedded S3-compatible server (s3rver) used by `npm start` and by the test harness.
 * Binds to 127.0.0.1 only; data lives in a directory of the caller's choosing.
 * See docs/toolchain.md for what it does not enforce (signatures, sizes, conditional writes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';
import { enforceIfNoneMatch } from './conditional.js';

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
  const addr = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    server,
    close: () => server.close(),
  };
}

/** The CORS document, for buckets created after start. */
export function corsXml(): string {
  return fs.readFileSync(corsFile, 'utf8');
}
