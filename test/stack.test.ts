/**
 * The actual `npm start` stack: embedded S3 + serverless-offline + S3 event delivery, as a user
 * runs it. Checks /health, the error envelope for an unknown route, a presigned PUT round trip
 * that triggers ingest through the event bridge, /sql on the result, and a clean Ctrl-C. Every API
 * response is checked against openapi.yaml twice: here (apiFetch) and by the stack itself
 * (startStack sets LAKEHOUSE_VALIDATE_RESPONSES under vitest: a mismatch would be a 500).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import { parse } from 'yaml';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { apiFetch } from './helpers/openapi.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  if (stack) {
    const code = await stack.stop();
    expect(code).toBe(0);
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
  }
});

describe('npm start', () => {
  it('prints the endpoints and the next commands', () => {
    expect(stack.output()).toContain(stack.api);
    expect(stack.output()).toContain('npx lakehouse upload');
    expect(stack.output()).toContain('npx lakehouse sql');
  });

  it('warms the functions a first upload goes through before it says it is running', () => {
    const out = stack.output();
    const warmed = out.indexOf('[lakehouse] warmed: ');
    expect(warmed).toBeGreaterThan(-1);
    // each warm-up answered (a failure would say "failed"), and the banner came after them
    expect(out.slice(warmed).split('\n')[0]).toMatch(/^\[lakehouse\] warmed: status \d+ ms, presign \d+ ms, catalog \d+ ms, sql \d+ ms, lakehouse-dev-ingest \d+ ms$/);
    expect(out.indexOf('Lakehouse is running')).toBeGreaterThan(warmed);
  });

  it('GET /health', async () => {
    const r = await apiFetch(`${stack.api}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', service: 'lakehouse', version: expect.any(String) });
  });

  it('GET /openapi.json serves openapi.yaml from the bundled function', async () => {
    const r = await apiFetch(`${stack.api}/openapi.json`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(parse(fs.readFileSync('openapi.yaml', 'utf8')));
  });

  it('unknown route and bad JSON get the documented error envelope over real HTTP', async () => {
    const r = await apiFetch(`${stack.api}/definitely/not/here`, { method: 'PATCH' });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const b = await apiFetch(`${stack.api}/uploads`, { method: 'POST', body: '{nope' });
    expect(b.status).toBe(400);
    expect(((await b.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it('presign → PUT → ObjectCreated → ingest → ready → /sql', async () => {
    const csv = 'id,city,amount\n1,Chicago,12.5\n2,"Washington, D.C.",7.25\n3,Peoria,\n';
    const p = await apiFetch(`${stack.api}/uploads`, {
      method: 'POST',
      body: JSON.stringify({ name: 'stack_demo', size: Buffer.byteLength(csv) }),
    });
    expect(p.status).toBe(201);
    const presign = (await p.json()) as { url: string; upload_id: string; headers: Record<string, string>; status_url: string };
    expect(presign.status_url).toBe(`${stack.api}/uploads/${presign.upload_id}`);
    const put = await fetch(presign.url, { method: 'PUT', body: csv });
    expect(put.status).toBe(200);
    const status = await waitForUpload(stack.api, presign.upload_id);
    expect((await apiFetch(presign.status_url)).status).toBe(200); // the ready record, checked here too
    expect(status.state).toBe('ready');
    expect(status.row_count).toBe(3);
    expect(stack.output()).toMatch(/ObjectCreated:Put s3:\/\/lakehouse\/uploads\/stack_demo\/.* → lakehouse-dev-ingest/);
    const q = await apiFetch(`${stack.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) AS n, sum(amount) AS s FROM stack_demo' }) });
    expect(q.status).toBe(200);
    expect(((await q.json()) as { rows: unknown }).rows).toEqual([[3, 19.75]]);
  });

  it('a 6 MB upload: the bundled ingest scans it in a worker thread; one ?wait= request at a time sees it through', async () => {
    const lines = ['id,label,amount'];
    for (let i = 1; i <= 200_000; i++) lines.push(`${i},"label ${i % 977}, ok",${(i % 10_000) / 100}`);
    const csv = lines.join('\n') + '\n';
    expect(csv.length).toBeGreaterThan(4 * 1024 * 1024);
    const p = (await (await apiFetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name: 'stack_threaded', size: csv.length }) })).json()) as { url: string; upload_id: string };
    expect((await fetch(p.url, { method: 'PUT', body: csv })).status).toBe(200);
    const states: string[] = [];
    let status: { state: string; row_count?: number; report?: { conversion?: string } };
    do {
      const r = await apiFetch(`${stack.api}/uploads/${p.upload_id}?wait=20`);
      expect(r.status).toBe(200);
      status = (await r.json()) as typeof status;
      states.push(status.state);
    } while (status.state === 'pending' || status.state === 'ingesting');
    expect(status.state).toBe('ready');
    expect(status.row_count).toBe(200_000);
    // each answer came once the state moved: pending → ingesting → ready in at most three requests
    expect(states.length).toBeLessThanOrEqual(3);
    // the worker's code travelled inside the bundle and ran: no fallback to the main thread
    expect(stack.output()).not.toContain('no worker thread for the scan');
    expect(status.report?.conversion).toMatch(/^started while scanning/);
  });

  it('Ctrl-C stops everything: no process left, ports released, data kept', async () => {
    const code = await stack.stop();
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    for (const url of [stack.api, stack.s3]) {
      const port = Number(new URL(url).port);
      await new Promise<void>((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
      });
    }
    expect(() => process.kill(-stack.child.pid!, 0)).toThrow();
    expect(fs.readdirSync(`${stack.dataDir}/s3`).length).toBeGreaterThan(0);
  });
});
