/**
 * The freshness probe's existence check (lib/storage/exists.ts): the same answers as the SDK's HEAD
 * on the real embedded server, the request the SDK itself would send (recorded by a server that
 * only records), and the SDK again whenever the fast path is not sure.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { freshBucket } from './helpers/s3.js';
import { s3, bucket } from '../lib/storage/client.js';
import { headObject } from '../lib/storage/objects.js';
import { keyExists, fastExistsState, resetExists } from '../lib/storage/exists.js';

const restore: Array<() => void> = [];
afterEach(() => {
  while (restore.length) restore.pop()!();
  resetExists();
});
function setEnv(name: string, value: string | undefined) {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  restore.push(() => (old === undefined ? delete process.env[name] : (process.env[name] = old)));
}

/** Counts the requests the SDK client sends. */
function countSdk(): { n: number } {
  const count = { n: 0 };
  const client = s3();
  const send = client.send.bind(client);
  client.send = ((...args: Parameters<typeof send>) => {
    count.n++;
    return send(...args);
  }) as typeof client.send;
  restore.push(() => (client.send = send));
  return count;
}

describe('on the embedded S3 server', () => {
  beforeAll(async () => {
    await freshBucket('exists');
    await s3().send(new PutObjectCommand({ Bucket: bucket(), Key: '_catalog/datasets/a/versions/000000000001.parquet', Body: 'x' }));
  });

  it('answers as the SDK does, and after learning the route and checking a known key, without the SDK', async () => {
    const known = '_catalog/datasets/a/versions/000000000001.parquet';
    const missing = '_catalog/datasets/a/versions/000000000002.parquet';
    expect(fastExistsState()).toBe('learning');
    expect(await keyExists(missing, known)).toBe(false); // learned through the SDK
    const sdk = countSdk();
    expect(await keyExists(missing, known)).toBe(false);
    expect(await keyExists(known, known)).toBe(true);
    expect(fastExistsState()).toBe('on');
    for (const k of [known, missing, '_catalog/datasets/b/versions/000000000001.parquet']) {
      expect(await keyExists(k, known)).toBe((await headObject(k)) !== undefined);
    }
    expect(sdk.n).toBe(3); // only the three headObject calls of the comparison
    // a new version appears: seen at once
    await s3().send(new PutObjectCommand({ Bucket: bucket(), Key: missing, Body: 'y' }));
    expect(await keyExists(missing, known)).toBe(true);
  });

  it('LAKEHOUSE_FAST_EXISTS=off: every call is the SDK', async () => {
    setEnv('LAKEHOUSE_FAST_EXISTS', 'off');
    const sdk = countSdk();
    const known = '_catalog/datasets/a/versions/000000000001.parquet';
    for (let i = 0; i < 3; i++) expect(await keyExists(known, known)).toBe(true);
    expect(sdk.n).toBe(3);
  });
});

describe('against a recording server', () => {
  interface Seen {
    method: string;
    path: string;
    headers: http.IncomingHttpHeaders;
    sdk: boolean;
  }
  const seen: Seen[] = [];
  /** key path → status, for the SDK's requests and for the fast ones. */
  let answer: (path: string, sdk: boolean) => number = () => 404;
  let server: http.Server;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const sdk = 'amz-sdk-invocation-id' in req.headers;
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, sdk });
      res.writeHead(answer(req.url!, sdk), { date: new Date().toUTCString(), 'content-length': '0' });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  function useRecorder() {
    seen.length = 0;
    setEnv('S3_ENDPOINT', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    setEnv('LAKEHOUSE_BUCKET', 'rec');
  }

  it('sends what the SDK sends: method, path, host, payload hash and the same signed headers and scope', async () => {
    useRecorder();
    answer = (p) => (p.endsWith('000000000001.parquet') ? 200 : 404);
    const known = '_catalog/datasets/a/versions/000000000001.parquet';
    const missing = '_catalog/datasets/a/versions/000000000002.parquet';
    expect(await keyExists(missing, known)).toBe(false);
    expect(await keyExists(missing, known)).toBe(false);
    expect(fastExistsState()).toBe('on');
    const sdkReq = seen.find((s) => s.sdk)!;
    const fastReq = seen.filter((s) => !s.sdk).at(-1)!;
    expect(fastReq.method).toBe('HEAD');
    expect(fastReq.path).toBe(sdkReq.path);
    expect(fastReq.path).toBe(`/rec/${missing}`);
    for (const h of ['host', 'x-amz-content-sha256']) expect(fastReq.headers[h], h).toBe(sdkReq.headers[h]);
    const auth = (s: Seen) => /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(s.headers.authorization));
    const [, fastCred, fastSigned] = auth(fastReq)!;
    const [, sdkCred, sdkSigned] = auth(sdkReq)!;
    expect(fastCred!.split('/').slice(2).join('/')).toBe(sdkCred!.split('/').slice(2).join('/')); // region/service/aws4_request
    expect(fastCred!.split('/')[0]).toBe(sdkCred!.split('/')[0]); // the access key
    // the SDK signs its own bookkeeping headers too; every header the fast request carries is signed as the SDK signs it
    const sdkSet = new Set(sdkSigned!.split(';'));
    for (const h of fastSigned!.split(';')) expect(sdkSet.has(h), h).toBe(true);
    expect(fastSigned).toBe('host;x-amz-content-sha256;x-amz-date');
  });

  it("a fast answer other than 200/404 (403) goes back to the SDK for good, and the answer is the SDK's", async () => {
    useRecorder();
    answer = (p, sdk) => (!sdk ? 403 : p.endsWith('000000000001.parquet') ? 200 : 404);
    const known = '_catalog/datasets/a/versions/000000000001.parquet';
    expect(await keyExists('_catalog/datasets/a/versions/000000000002.parquet', known)).toBe(false); // learning (SDK)
    // validating against the known key fails (403 fast, 200 by the SDK): off
    expect(await keyExists(known, known)).toBe(true);
    expect(fastExistsState()).toBe('off');
    const before = seen.filter((s) => !s.sdk).length;
    expect(await keyExists(known, known)).toBe(true);
    expect(seen.filter((s) => !s.sdk).length).toBe(before);
  });

  it('a fast path that does not find the known object (a wrong route) is never trusted', async () => {
    useRecorder();
    answer = (p, sdk) => (sdk && p.endsWith('000000000001.parquet') ? 200 : 404);
    const known = '_catalog/datasets/a/versions/000000000001.parquet';
    const missing = '_catalog/datasets/a/versions/000000000002.parquet';
    expect(await keyExists(missing, known)).toBe(false);
    expect(await keyExists(missing, known)).toBe(false);
    expect(fastExistsState()).toBe('off');
    // later answers come from the SDK: a new version is seen
    answer = (p, sdk) => (sdk ? 200 : 404);
    expect(await keyExists(missing, known)).toBe(true);
  });

  it('a network failure of the fast path is answered by the SDK', async () => {
    useRecorder();
    answer = () => 200;
    const known = '_catalog/datasets/a/versions/000000000001.parquet';
    expect(await keyExists(known, known)).toBe(true);
    expect(await keyExists(known, known)).toBe(true);
    expect(fastExistsState()).toBe('on');
    // the fast request's connection is cut before an answer; the SDK's is answered
    const handler = server.listeners('request')[0] as http.RequestListener;
    server.removeAllListeners('request');
    server.on('request', (req, res) => ('amz-sdk-invocation-id' in req.headers ? handler(req, res) : req.socket.destroy()));
    restore.push(() => {
      server.removeAllListeners('request');
      server.on('request', handler);
    });
    expect(await keyExists(known, known)).toBe(true);
    expect(fastExistsState()).toBe('on'); // a network error is not the path's fault
  });
});
