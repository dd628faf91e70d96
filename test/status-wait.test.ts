/**
 * GET /uploads/{id}?wait=N through the real handler and the real embedded S3 server: the answer
 * is held while the state stays, sent once it moves, at once when it is final; `wait` is checked;
 * the wait never outlasts the function's own time.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import crypto from 'node:crypto';
import { freshBucket } from './helpers/s3.js';
import { callHttp, httpEvent, lambdaContext } from './helpers/lambda.js';
import { s3 } from '../lib/storage/client.js';
import { writeStatus, type UploadRecord } from '../lib/ingest/status.js';
import { newUploadRecord } from '../lib/ingest/record.js';
import { recheckAfter } from '../lib/ingest/status-wait.js';
import { fastExistsState } from '../lib/storage/exists.js';
import { handler as statusFn } from '../functions/upload-status.js';
import { deliver, presignAndPut } from './helpers/ingest.js';

function record(state: UploadRecord['state']): UploadRecord {
  const id = crypto.randomUUID();
  const rec = { ...newUploadRecord({ upload_id: id, name: 'waited', key: `uploads/waited/${id}.csv`, source: 'presign' }), state };
  if (state === 'failed' || state === 'expired') rec.error = { code: state === 'failed' ? 'ragged_row' : 'upload_expired', message: 'as written' };
  return rec;
}

const get = (id: string, wait?: string) =>
  callHttp(statusFn, { method: 'GET', path: `/uploads/${id}`, routeKey: 'GET /uploads/{id}', pathParameters: { id }, ...(wait !== undefined ? { query: { wait } } : {}) });

/** Counts the GETs and HEADs of one key the SDK sends (the fast path's HEADs do not go through it). */
function countGets(key: string): { gets: number; heads: number; stop(): void } {
  const name = `countGets${crypto.randomUUID()}`;
  const c = { gets: 0, heads: 0, stop: () => s3().middlewareStack.remove(name) };
  s3().middlewareStack.add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK middleware arguments are untyped here
    (next, context: any) => async (args: any) => {
      if (args.input.Key === key && context.commandName === 'GetObjectCommand') c.gets++;
      if (args.input.Key === key && context.commandName === 'HeadObjectCommand') c.heads++;
      return next(args);
    },
    { step: 'initialize', name },
  );
  return c;
}

describe('GET /uploads/{id}?wait=', () => {
  beforeAll(async () => {
    await freshBucket('swait');
  });

  it('holds the answer while the upload waits for its file and sends each new state of a real ingest', async () => {
    const { presign, size, etag } = await presignAndPut('id,city\n1,Oslo\n2,Lima\n3,Pune\n', { name: 'waited' });
    const id = presign.upload_id as string;
    const counter = countGets(`_uploads/${id}.json`);
    try {
      // the request waits on `pending`; the S3 event arrives (and the ingest runs) while it waits
      const waiting = get(id, '10');
      const ingest = new Promise<void>((r) => setTimeout(r, 300)).then(() => deliver(process.env.LAKEHOUSE_BUCKET!, presign.key, size, etag));
      const first = await waiting;
      expect(first.status).toBe(200);
      expect(['ingesting', 'ready']).toContain(first.json.state);
      // the SDK read the record when the wait began (and once more while the fast path learnt its route); the re-checks went around it
      expect(counter.gets).toBeLessThanOrEqual(3);
      await ingest;
      const states = [first.json.state];
      while (states.at(-1) !== 'ready') states.push((await get(id, '10')).json.state);
      expect(states.length).toBeLessThanOrEqual(2);
      const last = await get(id, '10');
      expect(last.json.row_count).toBe(3);
    } finally {
      counter.stop();
    }
  });

  it('answers at once, with one read, when the state is final (ready: above) or no wait is asked', async () => {
    for (const state of ['failed', 'expired'] as const) {
      const rec = record(state);
      await writeStatus(rec);
      const counter = countGets(`_uploads/${rec.upload_id}.json`);
      try {
        const r = await get(rec.upload_id, '20');
        expect(r.json.state).toBe(state);
        expect(counter.gets).toBe(1);
      } finally {
        counter.stop();
      }
    }
    const pending = record('pending');
    await writeStatus(pending);
    const counter = countGets(`_uploads/${pending.upload_id}.json`);
    try {
      expect((await get(pending.upload_id)).json.state).toBe('pending');
      expect((await get(pending.upload_id, '0')).json.state).toBe('pending');
      expect(counter.gets).toBe(2);
    } finally {
      counter.stop();
    }
  });

  it('when the wait runs out, sends the record as it is (state unchanged), read once', async () => {
    const rec = record('pending');
    await writeStatus(rec);
    const counter = countGets(`_uploads/${rec.upload_id}.json`);
    try {
      const started = Date.now();
      const r = await get(rec.upload_id, '1');
      expect(r.status).toBe(200);
      expect(r.json.state).toBe('pending');
      // it did wait the second, re-checking meanwhile the fast way (signed plain conditional GETs), not through the SDK
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(fastExistsState()).toBe('on');
      expect(counter.gets).toBe(1);
    } finally {
      counter.stop();
    }
  });

  it('with the fast path off (LAKEHOUSE_FAST_EXISTS=off) the SDK re-checks, with the same answers', async () => {
    const old = process.env.LAKEHOUSE_FAST_EXISTS;
    process.env.LAKEHOUSE_FAST_EXISTS = 'off';
    const rec = record('ingesting');
    await writeStatus(rec);
    const counter = countGets(`_uploads/${rec.upload_id}.json`);
    try {
      setTimeout(() => void writeStatus({ ...rec, state: 'failed', error: { code: 'ragged_row', message: 'line 3' } }), 300);
      const r = await get(rec.upload_id, '10');
      expect(r.json.state).toBe('failed');
      // every re-check a GET through the SDK
      expect(counter.gets).toBeGreaterThan(3);
    } finally {
      counter.stop();
      if (old === undefined) delete process.env.LAKEHOUSE_FAST_EXISTS;
      else process.env.LAKEHOUSE_FAST_EXISTS = old;
    }
  });

  it('a change within the same state (a rewrite) does not end the wait; a change of state does', async () => {
    const rec = record('pending');
    await writeStatus(rec);
    setTimeout(() => void writeStatus({ ...rec, attempts: 1 }), 100);
    setTimeout(() => void writeStatus({ ...rec, attempts: 1, state: 'ingesting' }), 400);
    const r = await get(rec.upload_id, '10');
    expect(r.json.state).toBe('ingesting');
    expect(r.json.attempts).toBeUndefined(); // internal field: never shown
  });

  it('never waits past the function’s own time (2 s are kept for the answer)', async () => {
    const rec = record('ingesting');
    await writeStatus(rec);
    const counter = countGets(`_uploads/${rec.upload_id}.json`);
    try {
      const ctx = { ...lambdaContext(), getRemainingTimeInMillis: () => 2100 };
      const started = Date.now();
      const res = (await statusFn(httpEvent({ method: 'GET', path: `/uploads/${rec.upload_id}`, pathParameters: { id: rec.upload_id }, query: { wait: '20' } }) as never, ctx as never)) as {
        statusCode: number;
        body: string;
      };
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).state).toBe('ingesting');
      // 100 ms of waiting, not 20 s: the answer well before the asked 20 s
      expect(counter.gets).toBeLessThanOrEqual(2);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      counter.stop();
    }
  });

  it('wait that is not a whole number from 0 to 20 → 400 invalid_wait; an unknown upload → 404', async () => {
    const rec = record('pending');
    await writeStatus(rec);
    for (const wait of ['21', '-1', '1.5', 'abc', '', '100', ' 1']) {
      const r = await get(rec.upload_id, wait);
      expect(r.status, wait).toBe(400);
      expect(r.json.error.code).toBe('invalid_wait');
    }
    const gone = crypto.randomUUID();
    expect((await get(gone, '5')).status).toBe(404);
  });

  it('re-reads often at first and less often the longer it waits', () => {
    expect([0, 1999, 2000, 9999, 10_000, 19_000].map(recheckAfter)).toEqual([50, 50, 100, 100, 250, 250]);
  });
});
