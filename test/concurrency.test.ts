/**
 * Many cold query engines at once (issue 13, item 7): serverless-offline runs each concurrent
 * request in an engine of its own, all on one machine. Counted on the S3 server itself (every
 * request it receives): one catalog state gets one snapshot write, and the engines fetch each
 * Parquet object once between them. Then the real stack: queued invocations instead of one engine
 * per concurrent request, and every request answered.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { freshBucket } from './helpers/s3.js';
import { upload } from './helpers/ingest.js';
import { scopedEnv } from './helpers/env.js';
import { observeRequests, type ObservedRequest } from '../localstack/observe.js';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { Engine } from '../lib/query/engine.js';
import { readHead } from '../lib/catalog/store.js';
import { SNAPSHOT_PREFIX } from '../lib/catalog/snapshot.js';
import { resetConditionalProbe } from '../lib/storage/conditional.js';
import { generateWorkers } from '../scripts/gen-workers.js';

const setEnv = scopedEnv();
const N = 8;

let server: S3rver;
let seen: ObservedRequest[];
let oldEndpoint: string | undefined;
let bucket: string;

const puts = (prefix: string) => seen.filter((r) => r.bucket === bucket && r.method === 'PUT' && r.key.startsWith(prefix));
const gets = (key: string) => seen.filter((r) => r.bucket === bucket && r.method === 'GET' && r.key === key);

async function coldEngines(n: number): Promise<Engine[]> {
  return Promise.all(Array.from({ length: n }, () => Engine.create()));
}

function drop(engines: Engine[]): void {
  for (const e of engines) {
    e.instance.closeSync();
    e.removeScratch();
    e.cache.dispose();
  }
}

beforeAll(async () => {
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: fs.mkdtempSync(path.join(os.tmpdir(), 's3-concurrency-')),
    silent: true,
    vhostBuckets: false,
  });
  seen = observeRequests(server);
  const addr = (await server.run()) as { port: number };
  oldEndpoint = process.env.S3_ENDPOINT;
  process.env.S3_ENDPOINT = `http://127.0.0.1:${addr.port}`;
  bucket = await freshBucket('conc');
  const csv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'workers-')), 'workers.csv');
  await generateWorkers(5_000, csv);
  expect((await upload(fs.readFileSync(csv), { name: 'workers' })).status.state).toBe('ready');
  expect((await upload('id,label\n1,one\n', { name: 'small' })).status.state).toBe('ready');
}, 120_000);

afterAll(async () => {
  process.env.S3_ENDPOINT = oldEndpoint;
  resetConditionalProbe();
  await server.close();
});

describe('cold engines on one catalog', () => {
  it(`${N} engines starting at once read and write nothing of the catalog; a query reads only the datasets it names`, async () => {
    const before = seen.length;
    const engines = await coldEngines(N);
    try {
      // a cold start costs the same whatever the number of datasets: not one request
      expect(seen.slice(before).filter((r) => r.bucket === bucket)).toEqual([]);
      expect(puts(SNAPSHOT_PREFIX)).toHaveLength(0);
      for (const e of engines) expect(e.datasetNames()).toEqual([]);
      // the first query of a dataset brings in that dataset only
      const at = seen.length;
      expect(await engines[0]!.refresh(['small'])).toBe(true);
      expect(engines[0]!.datasetNames()).toEqual(['small']);
      const catalogReads = seen.slice(at).filter((r) => r.bucket === bucket && r.key.startsWith('_catalog/'));
      expect(catalogReads.every((r) => r.key.startsWith('_catalog/datasets/small/'))).toBe(true);
      // SHOW TABLES needs them all: the catalog listing's state
      await engines[1]!.loadAll();
      expect(engines[1]!.datasetNames().sort()).toEqual(['small', 'workers']);
    } finally {
      drop(engines);
    }
  });
});

describe('cold engines needing the same object', () => {
  it(`${N} engines materialising one dataset at once: one GET of its object, every engine reads it`, async () => {
    const key = (await readHead('workers'))!.objects[0]!.key;
    const before = gets(key).length;
    const engines = await coldEngines(N);
    try {
      await Promise.all(engines.map((e) => e.refresh(['workers'])));
      const done = await Promise.all(engines.map((e) => e.materialize(['workers'])));
      expect(gets(key).length - before).toBe(1);
      expect(engines.reduce((n, e) => n + e.cache.downloads, 0)).toBe(1);
      expect(engines.reduce((n, e) => n + e.cache.linked, 0)).toBe(N - 1);
      for (const [i, e] of engines.entries()) {
        const con = await e.connect();
        const r = await con.runAndReadAll('SELECT count(*) FROM workers');
        expect(Number(r.getRows()[0]![0])).toBe(5_000);
        con.closeSync();
        e.release(done[i]!.pins);
      }
    } finally {
      drop(engines);
    }
  });

  it('an evicted object is fetched again; its shared file goes once no engine links it', async () => {
    const key = (await readHead('workers'))!.objects[0]!.key;
    const engines = await coldEngines(2);
    try {
      for (const e of engines) {
        await e.refresh(['workers']);
        e.release((await e.materialize(['workers'])).pins);
      }
      const shared = path.join(path.dirname(engines[0]!.cache.dir), 'objects');
      const files = () => fs.readdirSync(shared).filter((f) => f.endsWith('.parquet'));
      expect(files()).toHaveLength(1);
      setEnv('LAKEHOUSE_CACHE_MAX_BYTES', '1');
      engines[0]!.cache.release([]); // evicts (nothing pinned)
      expect(files()).toHaveLength(1); // the other engine still links it
      engines[1]!.cache.release([]);
      expect(files()).toHaveLength(0);
      setEnv('LAKEHOUSE_CACHE_MAX_BYTES', undefined);
      const before = gets(key).length;
      engines[0]!.release((await engines[0]!.materialize(['workers'])).pins);
      expect(gets(key).length - before).toBe(1);
    } finally {
      drop(engines);
    }
  });
});

describe('the local stack under concurrent /sql', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { LAKEHOUSE_LOCAL_CONCURRENCY: '2', LAKEHOUSE_LOG_LEVEL: 'info' } });
    const csv = 'id,city\n1,Chicago\n2,Peoria\n3,Austin\n';
    const p = (await (await fetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name: 'cities', size: csv.length }) })).json()) as {
      url: string;
      upload_id: string;
    };
    expect((await fetch(p.url, { method: 'PUT', body: csv })).ok).toBe(true);
    expect((await waitForUpload(stack.api, p.upload_id)).state).toBe('ready');
  }, 180_000);

  afterAll(async () => {
    if (stack) {
      await stack.stop();
      fs.rmSync(stack.dataDir, { recursive: true, force: true });
    }
  });

  it('24 concurrent requests: all answered, by at most 2 engines (the rest waited for them)', async () => {
    const from = stack.output().length;
    const replies = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const r = await fetch(`${stack.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) + ? AS n FROM cities', params: [i] }) });
        return { status: r.status, body: (await r.json()) as { rows: unknown[][] } };
      }),
    );
    replies.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.rows).toEqual([[3 + i]]);
    });
    const engines = (stack.output().slice(from).match(/"msg":"query engine ready"/g) ?? []).length;
    expect(engines).toBeGreaterThanOrEqual(1);
    expect(engines).toBeLessThanOrEqual(2);
  });
});
