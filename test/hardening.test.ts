/* eslint-disable @typescript-eslint/no-explicit-any -- SDK middleware arguments and handler results are untyped here */
/**
 * Issue 12 hardening, through the real handlers and the real embedded S3 server:
 *   5. GC against a register that commits an old object while the GC runs;
 *   7. the upload status path: lock guard checked, conditional writes where the store has them,
 *      lock expiry on the store's clock;
 *   8. direct invocations fail as failures;
 *   9. status_url from configuration, malformed percent-encoding → 400 invalid_path;
 *  10. the sweeper: stuck `ingesting` re-driven (bounded), stale `pending` expired.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import S3rver from 's3rver';
import { freshBucket } from './helpers/s3.js';
import { callHttp, httpEvent, lambdaContext } from './helpers/lambda.js';
import { presignAndPut } from './helpers/ingest.js';
import { s3 } from '../lib/storage/client.js';
import { headObject, listAll, putObject } from '../lib/storage/objects.js';
import { resetConditionalProbe } from '../lib/storage/conditional.js';
import { withLock } from '../lib/storage/lock.js';
import { fingerprint } from '../lib/catalog/manifest.js';
import { readHead } from '../lib/catalog/store.js';
import { acquireLease, finishIngest, readStatus, writeStatus, type UploadRecord } from '../lib/ingest/status.js';
import { handler as registerFn } from '../functions/register.js';
import { handler as gcFn } from '../functions/gc.js';
import { handler as presignFn } from '../functions/presign-upload.js';
import { handler as statusFn } from '../functions/upload-status.js';
import { handler as catalogFn } from '../functions/catalog.js';
import { enforceIfNoneMatch } from '../localstack/conditional.js';

const SCHEMA = [
  { name: 'id', type: 'BIGINT' },
  { name: 'name', type: 'VARCHAR' },
];

const readEvent = (name: string) => JSON.parse(fs.readFileSync(path.resolve('events', name), 'utf8'));

async function putData(name: string, file: string): Promise<{ key: string; size: number }> {
  const key = `datasets/${name}/${fingerprint(SCHEMA).slice(0, 16)}/${file}.parquet`;
  await putObject(key, 'x'.repeat(10));
  return { key, size: 10 };
}

let hookSeq = 0;
/** Runs `hook` once, right after the first S3 command that matches (a precise point in a run). */
function afterCommand(match: (command: string, input: any) => boolean, hook: () => unknown) {
  const name = `testHook${++hookSeq}`;
  let fired = false;
  s3().middlewareStack.add(
    (next, context: any) => async (args: any) => {
      const out = await next(args);
      if (!fired && match(context.commandName, args.input)) {
        fired = true;
        await hook();
      }
      return out;
    },
    { step: 'initialize', name },
  );
  return { remove: () => s3().middlewareStack.remove(name), fired: () => fired };
}

/** Records what `pick` returns for each SDK request (a command name, a key; undefined: skipped) until `stop()`. */
function recordRequests(pick: (command: string, key: string | undefined) => string | undefined): { seen: string[]; stop: () => void } {
  const seen: string[] = [];
  const name = `record-${crypto.randomUUID()}`;
  s3().middlewareStack.add(
    (next, context: any) => async (args: any) => {
      const v = pick(context.commandName, args.input.Key);
      if (v !== undefined) seen.push(v);
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { seen, stop: () => s3().middlewareStack.remove(name) };
}

function pendingRecord(id: string, over: Partial<UploadRecord> = {}): UploadRecord {
  const now = new Date().toISOString();
  return {
    upload_id: id,
    name: 'hardening',
    mode: 'replace',
    bad_rows: 'fail',
    key: `uploads/hardening/${id}.csv`,
    filename: null,
    size: null,
    source: 'presign',
    state: 'pending',
    created_at: now,
    updated_at: now,
    attempts: 0,
    ...over,
  };
}

const noInit = (): UploadRecord => {
  throw new Error('the record exists');
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('5. gc against concurrent commits', () => {
  beforeAll(async () => {
    await freshBucket('hgc');
  });

  it('an old object registered between the scan and the delete is kept (existing dataset)', async () => {
    const live = await putData('gcrace', 'live');
    await registerFn({ name: 'gcrace', schema: SCHEMA, objects: [live] }, lambdaContext());
    const old = await putData('gcrace', 'old'); // unreferenced and older than the grace period (0)
    const hook = afterCommand(
      (c, i) => c === 'ListObjectsV2Command' && i.Prefix === 'datasets/',
      () => registerFn({ name: 'gcrace', schema: SCHEMA, objects: [old], mode: 'append' }, lambdaContext()),
    );
    let report: any;
    try {
      report = await gcFn({ dryRun: false, graceMs: 0 });
    } finally {
      hook.remove();
    }
    expect(hook.fired()).toBe(true);
    const head = await readHead('gcrace');
    expect(head?.objects.map((o) => o.key)).toEqual([live.key, old.key]);
    expect(await headObject(old.key)).toBeDefined(); // referenced by the head: must exist
    expect(report.deleted).toBe(0);
  });

  it('an old object registered into a dataset created during the run is kept', async () => {
    const stray = await putData('gcnew', 'stray');
    const hook = afterCommand(
      (c, i) => c === 'ListObjectsV2Command' && i.Prefix === 'datasets/',
      () => registerFn({ name: 'gcnew', schema: SCHEMA, objects: [stray] }, lambdaContext()),
    );
    try {
      await gcFn({ dryRun: false, graceMs: 0 });
    } finally {
      hook.remove();
    }
    expect(hook.fired()).toBe(true);
    expect((await readHead('gcnew'))?.objects.map((o) => o.key)).toEqual([stray.key]);
    expect(await headObject(stray.key)).toBeDefined();
  });

  it('a true orphan is still deleted', async () => {
    const orphan = await putData('gcrace', 'orphan');
    const r = (await gcFn({ dryRun: false, graceMs: 0 })) as { orphans: Array<{ key: string }> };
    expect(r.orphans.map((o) => o.key)).toEqual([orphan.key]);
    expect(await headObject(orphan.key)).toBeUndefined();
  });
});

describe('7. status path: lock guard, store clock (store without conditional writes)', () => {
  beforeAll(async () => {
    await freshBucket('hlk');
  });

  it('a status write after the lock was held past half its lease is refused (guard checked)', async () => {
    const id = crypto.randomUUID();
    await writeStatus(pendingRecord(id));
    const realNow = Date.now.bind(Date);
    const realPerf = performance.now.bind(performance);
    let jump = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + jump);
    vi.spyOn(performance, 'now').mockImplementation(() => realPerf() + jump);
    // the holder stalls 20 s (of a 30 s lease) between reading the record and writing it
    const hook = afterCommand(
      (c, i) => c === 'GetObjectCommand' && i.Key === `_uploads/${id}.json`,
      () => {
        jump = 20_000;
      },
    );
    try {
      await expect(acquireLease(id, 'late-owner', noInit, undefined)).rejects.toMatchObject({ code: 'lock_timeout' });
    } finally {
      hook.remove();
      vi.restoreAllMocks();
    }
    expect(hook.fired()).toBe(true);
    expect((await readStatus(id))?.state).toBe('pending'); // nothing written on a lost lock
  });

  it('lock expiry uses the store clock: a local clock 10 minutes fast does not take a live holder’s lock', async () => {
    const holder = `_locks/skew/t-${'1'.padStart(16, '0')}-live-holder`;
    await putObject(holder, ''); // a live holder's ticket, written just now (store time)
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 10 * 60_000);
    let entered = false;
    try {
      await expect(
        withLock(
          'skew',
          async () => {
            entered = true;
          },
          { leaseMs: 30_000, waitMs: 1_500 },
        ),
      ).rejects.toMatchObject({ code: 'lock_timeout' });
    } finally {
      vi.restoreAllMocks();
    }
    expect(entered).toBe(false);
    expect((await listAll(holder)).objects).toHaveLength(1); // the live ticket was not reaped
  });
});

describe('7. status path on a store that honours conditional writes', () => {
  let server: S3rver;
  let oldEndpoint: string | undefined;
  beforeAll(async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      directory: fs.mkdtempSync(path.join(os.tmpdir(), 's3-cas-status-')),
      silent: true,
      vhostBuckets: false,
    });
    enforceIfNoneMatch(server, { ifMatch: true });
    const addr = (await server.run()) as { port: number };
    oldEndpoint = process.env.S3_ENDPOINT;
    process.env.S3_ENDPOINT = `http://127.0.0.1:${addr.port}`;
    await freshBucket('hcas');
    resetConditionalProbe();
  });
  afterAll(async () => {
    process.env.S3_ENDPOINT = oldEndpoint;
    resetConditionalProbe();
    await server.close();
  });

  it('takes no lock: the lease and the final write are conditional puts', async () => {
    const id = crypto.randomUUID();
    await writeStatus(pendingRecord(id));
    const puts = recordRequests((command, key) => (command === 'PutObjectCommand' ? key : undefined));
    try {
      const lease = await acquireLease(id, 'owner-1', noInit, 'etag-1');
      expect(lease.kind).toBe('acquired');
      expect(
        await finishIngest(id, 'owner-1', (r) => {
          r.state = 'failed';
          r.error = { code: 'internal', message: 'x' };
        }),
      ).toBe(true);
    } finally {
      puts.stop();
    }
    expect(puts.seen.filter((k) => k.startsWith('_locks/') && !k.startsWith('_locks/_probe/'))).toEqual([]);
    expect((await listAll('_locks/upload/')).objects).toHaveLength(0);
    expect((await readStatus(id))?.state).toBe('failed');
  });

  it("the final write goes over the lease's own version without a GET; if the record changed, it reads again and still checks the owner", async () => {
    const id = crypto.randomUUID();
    await writeStatus(pendingRecord(id));
    const requests = recordRequests((command, key) => (key?.startsWith('_uploads/') ? command : undefined));
    const sent = requests.seen;
    try {
      const lease = await acquireLease(id, 'owner-1', noInit, 'etag-1');
      expect(lease.kind === 'acquired' && lease.version?.value.lease?.owner).toBe('owner-1');
      const version = lease.kind === 'acquired' ? lease.version : undefined;
      sent.length = 0;
      expect(await finishIngest(id, 'owner-1', (r) => (r.state = 'ready'), version)).toBe(true);
      expect(sent).toEqual(['PutObjectCommand']);
      expect((await readStatus(id))?.state).toBe('ready');

      // a second upload: another owner takes the lease over after ours (the record changes under us)
      const id2 = crypto.randomUUID();
      await writeStatus(pendingRecord(id2));
      const mine = await acquireLease(id2, 'owner-a', noInit, 'etag-1');
      const taken = (await readStatus(id2))!;
      await writeStatus({ ...taken, lease: { owner: 'owner-b', expires_at: taken.lease!.expires_at } });
      sent.length = 0;
      expect(await finishIngest(id2, 'owner-a', (r) => (r.state = 'ready'), mine.kind === 'acquired' ? mine.version : undefined)).toBe(false);
      // the conditional write on the stale version failed, the record was read, and nothing was written
      expect(sent).toEqual(['PutObjectCommand', 'GetObjectCommand']);
      expect((await readStatus(id2))?.lease?.owner).toBe('owner-b');
      expect((await readStatus(id2))?.state).toBe('ingesting');
    } finally {
      requests.stop();
    }
  });

  it('updated_at never goes before created_at or back in time (the store clock knows only whole seconds)', async () => {
    // created at POST /uploads by a clock 10 s ahead of the store's
    const ahead = new Date(Date.now() + 10_000).toISOString();
    const id = crypto.randomUUID();
    await writeStatus(pendingRecord(id, { created_at: ahead, updated_at: ahead }));
    const lease = await acquireLease(id, 'owner-1', noInit, 'etag-1');
    const leased = (await readStatus(id))!;
    expect(leased.state).toBe('ingesting');
    expect(Date.parse(leased.updated_at)).toBeGreaterThanOrEqual(Date.parse(ahead));
    expect(await finishIngest(id, 'owner-1', (r) => (r.state = 'ready'), lease.kind === 'acquired' ? lease.version : undefined)).toBe(true);
    const ready = (await readStatus(id))!;
    expect(ready.state).toBe('ready');
    expect(Date.parse(ready.updated_at)).toBeGreaterThanOrEqual(Date.parse(leased.updated_at));
    expect(Date.parse(ready.updated_at)).toBeGreaterThanOrEqual(Date.parse(ready.created_at));
  });

  it('8 concurrent lease takers: exactly one acquires; a stale owner cannot finish', async () => {
    const id = crypto.randomUUID();
    await writeStatus(pendingRecord(id));
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => acquireLease(id, `owner-${i}`, noInit, undefined)),
    );
    expect(outcomes.filter((o) => o.kind === 'acquired')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'skip' && o.reason === 'leased')).toHaveLength(7);
    const rec = (await readStatus(id))!;
    expect(rec.attempts).toBe(1);
    const winner = outcomes.find((o) => o.kind === 'acquired')!.record.lease!.owner;
    expect(await finishIngest(id, winner === 'owner-0' ? 'owner-1' : 'owner-0', () => undefined)).toBe(false);
  });
});

describe('8. direct invocations fail as failures', () => {
  beforeAll(async () => {
    await freshBucket('hdir');
  });

  it('register: events/register.json succeeds; an invalid payload throws; HTTP keeps its envelope', async () => {
    const ev = readEvent('register.json');
    const ok = (await registerFn(ev, lambdaContext())) as any;
    expect(ok.manifest.name).toBe(ev.name);
    await expect(registerFn({ ...ev, name: '' }, lambdaContext())).rejects.toMatchObject({
      code: 'invalid_name',
      status: 400,
      message: expect.stringMatching(/^invalid_name: /),
    });
    await expect(registerFn({ ...ev, objects: [{ key: `datasets/${ev.name}/nope.parquet` }] }, lambdaContext())).rejects.toMatchObject({
      code: 'object_not_found',
    });
    const http = readEvent('register-http.json');
    const res = (await registerFn({ ...http, body: JSON.stringify({ name: '' }), isBase64Encoded: false }, lambdaContext())) as any;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('invalid_name');
  });

  it('gc: a failing scheduled run throws (the store is unreachable), it does not return an error body', async () => {
    const bucket = process.env.LAKEHOUSE_BUCKET;
    process.env.LAKEHOUSE_BUCKET = `missing-${crypto.randomBytes(4).toString('hex')}`;
    try {
      await expect(gcFn(readEvent('gc.json'))).rejects.toMatchObject({ code: 'storage_error', status: 503 });
    } finally {
      process.env.LAKEHOUSE_BUCKET = bucket;
    }
    const ok = (await gcFn(readEvent('gc.json'))) as any;
    expect(ok.dry_run).toBe(true);
  });
});

describe('9. status_url and malformed paths', () => {
  beforeAll(async () => {
    await freshBucket('hurl');
  });
  afterEach(() => {
    delete process.env.LAKEHOUSE_PUBLIC_URL;
  });

  const presign = (headers: Record<string, string>, domainName?: string) => {
    const ev: any = httpEvent({ method: 'POST', path: '/uploads', body: { name: 'links' }, headers });
    if (domainName) ev.requestContext.domainName = domainName;
    return presignFn(ev, lambdaContext()) as Promise<any>;
  };

  it('ignores X-Forwarded-Host and Host: the request context domain, or LAKEHOUSE_PUBLIC_URL', async () => {
    const evil = { 'x-forwarded-host': 'evil.example', host: 'evil.example', 'x-forwarded-proto': 'http' };
    const local = JSON.parse((await presign(evil)).body);
    expect(local.status_url).toBe(`http://127.0.0.1:3000/uploads/${local.upload_id}`);
    const aws = JSON.parse((await presign(evil, 'abc123.execute-api.us-east-1.amazonaws.com')).body);
    expect(aws.status_url).toBe(`https://abc123.execute-api.us-east-1.amazonaws.com/uploads/${aws.upload_id}`);
    process.env.LAKEHOUSE_PUBLIC_URL = 'https://lake.example.com/';
    const configured = JSON.parse((await presign(evil, 'abc123.execute-api.us-east-1.amazonaws.com')).body);
    expect(configured.status_url).toBe(`https://lake.example.com/uploads/${configured.upload_id}`);
  });

  it('malformed percent-encoding in a path parameter → 400 invalid_path', async () => {
    for (const id of ['%E0%A4%A', '%zz', '%']) {
      const r = await callHttp(statusFn, { method: 'GET', path: `/uploads/${id}`, routeKey: 'GET /uploads/{id}', pathParameters: { id } });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_path');
    }
    for (const name of ['%zz', '%E0%A4%A']) {
      const r = await callHttp(catalogFn, {
        method: 'GET',
        path: `/catalog/manifests/${name}`,
        routeKey: 'GET /catalog/manifests/{name}',
        pathParameters: { name },
      });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_path');
    }
  });
});

describe('10. the sweeper', () => {
  beforeAll(async () => {
    await freshBucket('hswp');
  });

  const sweep = async () => {
    const { handler } = await import('../functions/sweeper.js');
    return (await handler(readEvent('sweeper.json'), lambdaContext('lakehouse-dev-sweeper'))) as any;
  };
  const expired = () => ({ owner: 'dead-ingest', expires_at: new Date(Date.now() - 60_000).toISOString() });

  it('an ingest that died (lease expired) is re-driven to ready; one out of attempts → failed ingest_crashed', async () => {
    const a = await presignAndPut('a,b\n1,2\n3,4\n', { name: 'swept' });
    await writeStatus({ ...(await readStatus(a.presign.upload_id))!, state: 'ingesting', attempts: 1, lease: expired() });
    const b = await presignAndPut('a,b\n1,2\n', { name: 'crashing' });
    await writeStatus({ ...(await readStatus(b.presign.upload_id))!, state: 'ingesting', attempts: 3, lease: expired() });

    const report = await sweep();
    expect(report.redriven).toEqual([{ upload_id: a.presign.upload_id, outcome: 'ready' }]);
    expect(report.crashed).toEqual([b.presign.upload_id]);

    const ra = (await readStatus(a.presign.upload_id))!;
    expect(ra).toMatchObject({ state: 'ready', attempts: 2, row_count: 2, lease: null });
    expect((await readHead('swept'))?.version).toBe(1);

    const sb = await callHttp(statusFn, { method: 'GET', path: `/uploads/${b.presign.upload_id}`, pathParameters: { id: b.presign.upload_id } });
    expect(sb.json).toMatchObject({ state: 'failed', error: { code: 'ingest_crashed', attempts: 3 } });
    expect(await readHead('crashing')).toBeUndefined();
  });

  it('a pending upload past its URL lifetime: expired when no file came; ingested when the event was lost', async () => {
    const old = new Date(Date.now() - 2 * 3600_000).toISOString();
    const never = crypto.randomUUID();
    await writeStatus(pendingRecord(never, { name: 'never', key: `uploads/never/${never}.csv`, created_at: old }));
    const lost = await presignAndPut('x,y\n1,2\n', { name: 'lostevent' });
    await writeStatus({ ...(await readStatus(lost.presign.upload_id))!, created_at: old });
    const fresh = crypto.randomUUID();
    await writeStatus(pendingRecord(fresh, { name: 'fresh', key: `uploads/fresh/${fresh}.csv` }));

    const report = await sweep();
    expect(report.expired).toEqual([never]);
    expect(report.redriven).toEqual([{ upload_id: lost.presign.upload_id, outcome: 'ready' }]);

    const s = await callHttp(statusFn, { method: 'GET', path: `/uploads/${never}`, pathParameters: { id: never } });
    expect(s.json).toMatchObject({ state: 'expired', error: { code: 'upload_expired' } });
    expect((await readStatus(lost.presign.upload_id))?.state).toBe('ready');
    expect((await readStatus(fresh))?.state).toBe('pending'); // still within its URL's lifetime
  });

  it('a second run finds nothing to do', async () => {
    const report = await sweep();
    expect(report).toMatchObject({ redriven: [], crashed: [], expired: [], missing: [], deferred: [] });
  });
});
