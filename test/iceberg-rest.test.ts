/**
 * Issue 14: the read-only Iceberg REST catalog through the real `npm start` stack, driven by a real
 * Iceberg REST client from npm (iceberg-js), with a bearer token set. Every dataset is listed and
 * loaded; `metadata` and the whole loadTable result are validated against the Iceberg REST OpenAPI
 * document (vendored); each table's rows, read by icebird from the stack's S3, equal /sql's.
 * GET responses are also held to our openapi.yaml (apiFetch, and the stack itself validates).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { IcebergRestCatalog, IcebergError } from 'iceberg-js';
import { icebergManifests } from 'icebird';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { apiFetch } from './helpers/openapi.js';
import { icebergSchemaProblems, readWithIcebird, withLocalS3 } from './helpers/iceberg.js';

const TOKEN = 'iceberg-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let stack: Stack;
let catalog: IcebergRestCatalog;

async function uploadCsv(name: string, csv: string, mode: 'replace' | 'append' = 'replace') {
  const p = await apiFetch(`${stack.api}/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ name, mode, size: Buffer.byteLength(csv) }) });
  expect(p.status).toBe(201);
  const presign = (await p.json()) as { url: string; upload_id: string };
  expect((await fetch(presign.url, { method: 'PUT', body: csv })).status).toBe(200);
  const status = await waitForUpload(stack.api, presign.upload_id, 120_000, auth);
  expect(status.state).toBe('ready');
}

async function sql(q: string): Promise<unknown[][]> {
  const r = await apiFetch(`${stack.api}/sql`, { method: 'POST', headers: auth, body: JSON.stringify({ sql: q }) });
  expect(r.status).toBe(200);
  return ((await r.json()) as { rows: unknown[][] }).rows;
}

beforeAll(async () => {
  stack = await startStack({ env: { LAKEHOUSE_API_TOKEN: TOKEN } });
  catalog = new IcebergRestCatalog({ baseUrl: `${stack.api}/iceberg`, auth: { type: 'bearer', token: TOKEN } });
  await uploadCsv('sales', 'id,city,amount\n1,Chicago,12.5\n2,"Washington, D.C.",7.25\n3,Peoria,\n');
  await uploadCsv('sales', 'id,city,amount\n4,Boston,1.5\n', 'append');
  await uploadCsv('events', 'day,ok\n2024-01-02,true\n2024-01-03,false\n');
}, 240_000);

afterAll(async () => {
  if (stack) {
    expect(await stack.stop()).toBe(0);
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
  }
});

describe('Iceberg REST catalog (npm start, iceberg-js)', () => {
  it('needs the bearer token; errors have the Iceberg REST shape', async () => {
    const r = await apiFetch(`${stack.api}/iceberg/v1/config`);
    expect(r.status).toBe(401);
    const body = (await r.json()) as unknown;
    expect(body).toEqual({ error: { message: expect.any(String), type: 'NotAuthorizedException', code: 401 } });
    expect(icebergSchemaProblems('IcebergErrorResponse', body)).toEqual([]);
  });

  it('GET /v1/config advertises only the read routes', async () => {
    const config = await catalog.loadConfig();
    expect(icebergSchemaProblems('CatalogConfig', config)).toEqual([]);
    expect(config.endpoints).toContain('GET /v1/{prefix}/namespaces/{namespace}/tables/{table}');
    expect((config.endpoints ?? []).filter((e) => !/^(GET|HEAD) /.test(e))).toEqual([]);
  });

  it('one namespace; it exists, others do not', async () => {
    expect((await catalog.listNamespaces()).namespaces).toEqual([{ namespace: ['lakehouse'] }]);
    expect(await catalog.namespaceExists({ namespace: ['lakehouse'] })).toBe(true);
    expect(await catalog.namespaceExists({ namespace: ['nope'] })).toBe(false);
    const missing = await catalog.listTables({ namespace: ['nope'] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(IcebergError);
    expect((missing as IcebergError).status).toBe(404);
    expect((missing as IcebergError).icebergType).toBe('NoSuchNamespaceException');
  });

  it('lists and loads every dataset: metadata matches the catalog, rows match /sql', async () => {
    const tables = await catalog.listTables({ namespace: ['lakehouse'] });
    expect(tables.identifiers.map((t) => t.name).sort()).toEqual(['events', 'sales']);
    for (const { name } of tables.identifiers) {
      const m = (await (await apiFetch(`${stack.api}/catalog/manifests/${name}`, { headers: auth })).json()) as {
        dataset_id: string;
        version: number;
        row_count: number;
        objects: Array<{ key: string; size: number; row_count: number }>;
      };
      expect(await catalog.tableExists({ namespace: ['lakehouse'], name })).toBe(true);
      const result = (await catalog.loadTableResult({ namespace: ['lakehouse'], name }))!;
      const { etag: _etag, ...wire } = result as typeof result & { etag?: unknown };
      void _etag;
      expect(icebergSchemaProblems('LoadTableResult', wire)).toEqual([]);
      expect(icebergSchemaProblems('TableMetadata', result.metadata)).toEqual([]);
      expect(result['metadata-location']).toBe(`s3://lakehouse/datasets/${name}/metadata/v${m.version}.metadata.json`);
      expect(result['storage-credentials']).toBeUndefined(); // none vended locally
      const meta = result.metadata as unknown as { 'table-uuid': string; 'current-snapshot-id': number; snapshots: Array<{ 'snapshot-id': number; summary: Record<string, string> }> };
      expect(meta['table-uuid']).toBe(m.dataset_id);
      const snap = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id'])!;
      expect(snap.summary['total-records']).toBe(String(m.row_count));

      const manifests = await withLocalS3(stack.s3, () => icebergManifests(result.metadata as never));
      const files = manifests.flatMap((x) => x.entries.map((e) => [e.data_file.file_path, Number(e.data_file.file_size_in_bytes), Number(e.data_file.record_count)]));
      expect(files.sort()).toEqual(m.objects.map((o) => [`s3://lakehouse/${o.key}`, o.size, o.row_count]).sort());

      const fileName = result['metadata-location']!.split('/').pop()!;
      const rows = await readWithIcebird(stack.s3, `s3://lakehouse/datasets/${name}`, fileName);
      const cols = Object.keys(rows[0] ?? {});
      const viaSql = await sql(`SELECT ${cols.map((c) => `CAST("${c}" AS VARCHAR)`).join(', ')} FROM "${name}"`);
      const text = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString().slice(0, 10) : String(v));
      expect(rows.map((r) => JSON.stringify(cols.map((c) => text(r[c])))).sort()).toEqual(viaSql.map((r) => JSON.stringify(r)).sort());
    }
  });

  it('a missing table: 404 NoSuchTableException (GET), 404 (HEAD); HEAD of a table: 204', async () => {
    const e = await catalog.loadTable({ namespace: ['lakehouse'], name: 'nope' }).catch((x: unknown) => x);
    expect((e as IcebergError).status).toBe(404);
    expect((e as IcebergError).icebergType).toBe('NoSuchTableException');
    expect(await catalog.tableExists({ namespace: ['lakehouse'], name: 'nope' })).toBe(false);
    const head = await fetch(`${stack.api}/iceberg/v1/namespaces/lakehouse/tables/sales`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(204);
  });
});
