/**
 * "Does this key exist?" for the query engine's freshness probe (one per dataset per query, on the
 * path of every warm `/sql`), without the SDK's middleware stack: the SDK's HEAD of a missing key
 * costs 1.6–2.8 ms of CPU (serde, endpoint rules, retry bookkeeping, the `NotFound` exception),
 * a plain request about 1 ms (docs/BASELINE.md, "/sql warm latency").
 *
 * Nothing here decides how to reach or sign for the store. The first call goes through the SDK
 * (objects.ts) and records the request the SDK built — protocol, host, port and the path before
 * the key — and every later request is that request for another key, signed by the SDK client's
 * own SigV4 signer (its credentials, region, refresh). Before the fast path is trusted it must
 * agree with the SDK on a key known to exist (200 both ways): a 404 from a wrong path would
 * otherwise pass for "no new version". Any other answer (403, 5xx, a network error, a timeout)
 * falls back to the SDK for that call, and a status other than 200/404 turns the fast path off
 * for the process. `LAKEHOUSE_FAST_EXISTS=off` keeps every call on the SDK.
 */
import http from 'node:http';
import https from 'node:https';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { config } from '../config.js';
import { log } from '../log.js';
import { s3, bucket } from './client.js';
import { observeServerDate } from './clock.js';
import { getJsonVersioned, headObject, isNotFound, storageError } from './objects.js';
import { validateKey } from './keys.js';

/** SHA-256 of the empty payload (a HEAD has none), as the SDK sends it for S3. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const TIMEOUT_MS = 5000;

interface Route {
  protocol: string;
  hostname: string;
  port: number | undefined;
  /** The path before the encoded key (`/bucket/` path-style, `/` virtual-hosted). */
  prefix: string;
  /** The client the route was learned from (a new client, e.g. new credentials, learns again). */
  client: unknown;
}

type Signer = { sign(request: unknown): Promise<{ path: string; headers: Record<string, string> }> };

let route: Route | undefined;
/** Undefined: not yet agreed with the SDK; true: trusted; false: off for this process. */
let trusted: boolean | undefined;
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/** For tests: forget what was learned. */
export function resetExists(): void {
  route = undefined;
  trusted = undefined;
}

/** For tests and logs: whether the fast path is in use. */
export function fastExistsState(): 'learning' | 'on' | 'off' {
  return trusted === undefined ? 'learning' : trusted ? 'on' : 'off';
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** The SDK's HEAD, recording the request it built (its path ends with the encoded key). */
async function sdkExists(key: string): Promise<boolean> {
  const client = s3();
  let seen: Route | undefined;
  const command = new HeadObjectCommand({ Bucket: bucket(), Key: key });
  command.middlewareStack.add(
    (next) => async (args) => {
      const r = args.request as { protocol?: string; hostname?: string; port?: number; path?: string };
      const tail = `/${encodeKey(key)}`;
      if (r.protocol && r.hostname && r.path?.endsWith(tail)) {
        seen = { protocol: r.protocol, hostname: r.hostname, port: r.port, prefix: r.path.slice(0, r.path.length - tail.length + 1), client };
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'lakehouseLearnRoute', priority: 'low' },
  );
  try {
    await client.send(command);
    route = seen;
    return true;
  } catch (e) {
    if (!isNotFound(e)) throw storageError('HEAD', e);
    route = seen;
    return false;
  }
}

/** The fast HEAD: the HTTP status, or undefined on any failure (signing, network, timeout). */
async function fastStatus(r: Route, key: string): Promise<number | undefined> {
  return (await fastRequest(r, key, 'HEAD'))?.status;
}

/** Bodies the fast GET keeps (a status record is a few KB); a larger one is left to the SDK. */
const MAX_FAST_BODY = 1024 * 1024;

interface FastAnswer {
  status: number | undefined;
  /** Quotes removed. */
  etag: string | undefined;
  body: Buffer;
}

/**
 * A HEAD, or a GET (with If-None-Match when `ifNoneMatch` is given), signed by the SDK client's own
 * signer; undefined on any failure (signing, network, timeout, a body over MAX_FAST_BODY).
 */
async function fastRequest(r: Route, key: string, method: 'HEAD' | 'GET', ifNoneMatch?: string): Promise<FastAnswer | undefined> {
  let signed: { path: string; headers: Record<string, string> };
  try {
    const signer = await (s3().config as unknown as { signer: () => Promise<Signer> }).signer();
    const host = r.port ? `${r.hostname}:${r.port}` : r.hostname;
    signed = await signer.sign({
      method,
      protocol: r.protocol,
      hostname: r.hostname,
      port: r.port,
      path: r.prefix + encodeKey(key),
      query: {},
      headers: { host, 'x-amz-content-sha256': EMPTY_SHA256, ...(ifNoneMatch ? { 'if-none-match': `"${ifNoneMatch}"` } : {}) },
    });
  } catch {
    return undefined;
  }
  const lib = r.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(
      { protocol: r.protocol, host: r.hostname, port: r.port, method, path: signed.path, headers: signed.headers, agent: agents[r.protocol as 'http:' | 'https:'], timeout: TIMEOUT_MS },
      (res) => {
        observeServerDate(res.headers.date);
        const etag = typeof res.headers.etag === 'string' ? res.headers.etag.replace(/"/g, '') : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_FAST_BODY) {
            res.destroy();
            resolve(undefined);
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode, etag, body: Buffer.concat(chunks) }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function turnOff(why: string, status: number | undefined): void {
  if (trusted !== false) log.warn('storage: the fast existence check is off, the SDK answers', { why, status });
  trusted = false;
}

/**
 * Whether `key` exists. `known`: a key that exists (the dataset's current version), used to check
 * that the fast path reaches the same objects as the SDK before it is trusted.
 */
export async function keyExists(key: string, known: string): Promise<boolean> {
  validateKey(key);
  const sdk = async () => (await headObject(key)) !== undefined;
  if (!config().fastExists || trusted === false) return sdk();
  const r = route;
  if (!r || r.client !== s3()) return sdkExists(key);
  if (trusted === undefined) {
    if ((await fastStatus(r, known)) !== 200) {
      // the SDK finds it where the fast path does not: off; neither finds it (dropped meanwhile): ask again later
      if (await headObject(known)) turnOff('it does not find an object the SDK finds', undefined);
      return sdk();
    }
    trusted = true;
  }
  const status = await fastStatus(r, key);
  if (status === 200) return true;
  if (status === 404) return false;
  if (status !== undefined) turnOff('unexpected status', status);
  return sdk();
}

/**
 * A JSON object again unless it is still the version `etag`: 'unchanged', the new version, or
 * undefined when it is gone. The status wait's re-check (lib/ingest/status-wait.ts, every 50 ms
 * while a client waits): a conditional GET (304 while unchanged) through the same fast path as
 * keyExists. The key itself, which the caller has just read, is the object both paths must find
 * before the fast one is trusted; any doubt, the SDK.
 */
export async function jsonIfChanged<T>(key: string, etag: string): Promise<{ value: T; etag: string | undefined } | 'unchanged' | undefined> {
  validateKey(key);
  const sdk = async () => {
    const now = await getJsonVersioned<T>(key);
    return now && now.etag === etag ? 'unchanged' : now;
  };
  if (!config().fastExists || trusted === false) return sdk();
  const r = route;
  if (!r || r.client !== s3()) {
    await sdkExists(key);
    return sdk();
  }
  const got = await fastRequest(r, key, 'GET', etag);
  if (got?.status === 304 || got?.status === 200) {
    trusted = true;
    if (got.status === 304) return 'unchanged';
    try {
      return { value: JSON.parse(got.body.toString('utf8')) as T, etag: got.etag };
    } catch {
      return sdk();
    }
  }
  if (got?.status === 404) {
    if (trusted) return undefined;
    // not yet trusted: the SDK decides, and a key it finds where the fast path did not turns the fast path off
    const now = await sdk();
    if (now !== undefined) turnOff('it does not find an object the SDK finds', 404);
    return now;
  }
  if (got?.status !== undefined) turnOff('unexpected status', got.status);
  return sdk();
}
