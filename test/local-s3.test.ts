/**
 * The embedded S3 server (localstack/s3-server.ts) behaves as S3 does where the product relies on
 * it: a PUT is atomic for readers (a GET sees the old object or the new one, whole, with its own
 * ETag — s3rver writes in place and its metadata after), conditional reads answer 304 without
 * leaking a file descriptor.
 */
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startS3Server } from '../localstack/s3-server.js';

/** File descriptors this process has open. */
const fds = () => fs.readdirSync('/proc/self/fd').length;

describe('the local S3 server', () => {
  it('a GET during PUTs of the same key sees one whole version, with that version’s ETag', async () => {
    const server = await startS3Server({ directory: fs.mkdtempSync(path.join(os.tmpdir(), 's3-atomic-')), buckets: ['atomic-puts'] });
    try {
      const url = `${server.endpoint}/atomic-puts/_uploads/record.json`;
      // records of different sizes, as a status record grows from pending to ready
      const bodies = Array.from({ length: 6 }, (_, i) => JSON.stringify({ state: `s${i}`, pad: 'x'.repeat(20_000 * (i + 1)) }));
      const md5 = new Map(bodies.map((b) => [b, crypto.createHash('md5').update(b).digest('hex')]));
      await fetch(url, { method: 'PUT', body: bodies[0] });
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop; i++) await (await fetch(url, { method: 'PUT', body: bodies[i % bodies.length] })).arrayBuffer();
      })();
      const seen: string[] = [];
      try {
        for (let n = 0; n < 300; n++) {
          const r = await fetch(url);
          const text = await r.text();
          expect(r.status).toBe(200);
          // whole: one of the bodies written, never a prefix or a mix
          expect(md5.has(text), `read ${text.length} bytes`).toBe(true);
          expect(r.headers.get('etag')).toBe(`"${md5.get(text)}"`);
          seen.push(text);
        }
      } finally {
        stop = true;
        await writer;
      }
      // the reads did race the writes
      expect(new Set(seen).size).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });
});

describe('the local S3 server answers conditional reads', () => {
  it('304 from the metadata when the ETag matches, the object otherwise; no file descriptor left open (s3rver leaked one per 304)', async () => {
    const server = await startS3Server({ directory: fs.mkdtempSync(path.join(os.tmpdir(), 's3-304-')), buckets: ['cond-reads'] });
    try {
      const url = `${server.endpoint}/cond-reads/_uploads/x.json`;
      const put = await fetch(url, { method: 'PUT', body: '{"state":"pending"}' });
      const etag = put.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      const before = fds();
      for (let i = 0; i < 200; i++) {
        const r = await fetch(`${url}?x-id=GetObject`, { headers: { 'if-none-match': etag } });
        expect(r.status).toBe(304);
        await r.arrayBuffer();
      }
      // a few descriptors come and go (sockets); 200 leaked ones would not
      expect(fds() - before).toBeLessThan(20);
      const other = await fetch(url, { headers: { 'if-none-match': '"0123456789abcdef0123456789abcdef"' } });
      expect(other.status).toBe(200);
      expect(await other.text()).toBe('{"state":"pending"}');
      expect((await fetch(url, { method: 'HEAD', headers: { 'if-none-match': '*' } })).status).toBe(304);
    } finally {
      await server.close();
    }
  });
});

describe('the local S3 server streams GETs in large chunks', () => {
  it('content in 1 MiB reads (s3rver: 64 KiB); whole and ranged GETs return the stored bytes; no descriptor left open', async () => {
    const server = await startS3Server({ directory: fs.mkdtempSync(path.join(os.tmpdir(), 's3-chunks-')), buckets: ['big-reads'] });
    try {
      const body = crypto.randomBytes(3 * 1024 * 1024 + 12345);
      const url = `${server.endpoint}/big-reads/uploads/big.bin`;
      expect((await fetch(url, { method: 'PUT', body })).status).toBe(200);
      // the store's content stream, as the GET handler gets it
      const store = (server.server as unknown as { store: { getObject(b: string, k: string, o?: unknown): Promise<{ content: fs.ReadStream }> } }).store;
      const obj = await store.getObject('big-reads', 'uploads/big.bin');
      expect(obj.content.readableHighWaterMark).toBe(1024 * 1024);
      obj.content.destroy();
      const before = fds();
      for (let i = 0; i < 20; i++) {
        const whole = await fetch(url);
        expect(Buffer.from(await whole.arrayBuffer()).equals(body)).toBe(true);
      }
      expect(fds() - before).toBeLessThan(10);
      // (not bytes=0-0 nor a suffix range: s3rver answers those wrongly, chunks or not — docs/toolchain.md)
      for (const [from, to] of [
        [0, 1],
        [1024 * 1024 - 1, 1024 * 1024 + 1],
        [5, 2 * 1024 * 1024 + 7],
        [body.length - 10, body.length - 1],
      ] as const) {
        const r = await fetch(url, { headers: { range: `bytes=${from}-${to}` } });
        expect(r.status).toBe(206);
        expect(Buffer.from(await r.arrayBuffer()).equals(body.subarray(from, to + 1))).toBe(true);
      }
    } finally {
      await server.close();
    }
  });
});
