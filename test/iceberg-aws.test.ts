/**
 * Issue 14, the AWS parts. AWS cannot be reached here, so the real SDK clients talk (through
 * AWS_ENDPOINT_URL_GLUE / AWS_ENDPOINT_URL_STS) to minimal in-memory stand-ins of the two APIs:
 * - Glue: with LAKEHOUSE_GLUE_DATABASE set, every publish creates or updates the dataset's Glue
 *   table as Iceberg's GlueTableOperations does (the stand-in speaks Glue's JSON protocol for
 *   GetTable/CreateTable/UpdateTable and enforces VersionId the way Glue does);
 * - STS: with LAKEHOUSE_ICEBERG_READ_ROLE_ARN set, loadTable (through its real handler) vends the
 *   credentials AssumeRole returns, asking for them with the per-table session policy.
 * Also: the pure pieces (table input, session policy, type mapping, file names, error shape).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freshBucket } from './helpers/s3.js';
import { upload } from './helpers/ingest.js';
import { scopedEnv } from './helpers/env.js';
import { registerInGlue, tableInput, isOlder } from '../lib/iceberg/glue.js';
import { sessionPolicy } from '../lib/iceberg/credentials.js';
import { icebergType, MetadataFileName } from '../lib/iceberg/types.js';
import { snapshotId } from '../lib/iceberg/metadata.js';
import { icebergErrorResponse } from '../lib/http/errors.js';
import { LakehouseError } from '../lib/errors.js';
import { icebergSchemaProblems, loadTableHttp } from './helpers/iceberg.js';

/** STS AssumeRole (query protocol, XML), recording what was asked. */
function stsStandIn() {
  const requests: Array<Record<string, string>> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      requests.push(params);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAVENDED</AccessKeyId><SecretAccessKey>vended-secret</SecretAccessKey><SessionToken>vended-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:lakehouse-iceberg-read</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/r/lakehouse-iceberg-read</Arn></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    });
  });
  return { server, requests };
}

interface GlueTable {
  Name: string;
  Parameters: Record<string, string>;
  TableType?: string;
  StorageDescriptor?: { Location?: string; Columns?: Array<{ Name: string; Type: string }> };
  VersionId: string;
}

/** Glue's JSON 1.1 protocol, three operations, tables in memory; `interfere` bumps a table's version once before the next update (a concurrent writer). */
function glueStandIn() {
  const tables = new Map<string, GlueTable>();
  const calls: string[] = [];
  let interfere = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target']).replace('AWSGlue.', '');
      calls.push(op);
      const input = JSON.parse(body || '{}');
      const key = `${input.DatabaseName}.${input.Name ?? input.TableInput?.Name}`;
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      const t = tables.get(key);
      if (op === 'GetTable') return t ? reply(200, { Table: { ...t, DatabaseName: input.DatabaseName } }) : reply(400, { __type: 'EntityNotFoundException', Message: 'not found' });
      if (op === 'CreateTable') {
        if (t) return reply(400, { __type: 'AlreadyExistsException', Message: 'exists' });
        tables.set(key, { ...input.TableInput, VersionId: '1' });
        return reply(200, {});
      }
      if (op === 'UpdateTable') {
        if (!t) return reply(400, { __type: 'EntityNotFoundException', Message: 'not found' });
        if (interfere) {
          interfere = false;
          t.VersionId = String(Number(t.VersionId) + 1);
        }
        if (input.VersionId !== t.VersionId) return reply(400, { __type: 'ConcurrentModificationException', Message: 'version changed' });
        tables.set(key, { ...input.TableInput, VersionId: String(Number(t.VersionId) + 1) });
        return reply(200, {});
      }
      reply(400, { __type: 'InvalidInputException', Message: `unsupported ${op}` });
    });
  });
  return { server, tables, calls, interfereOnce: () => (interfere = true) };
}

const setEnv = scopedEnv();
const glue = glueStandIn();
const sts = stsStandIn();
let bucket: string;

beforeAll(async () => {
  await new Promise<void>((r) => glue.server.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => sts.server.listen(0, '127.0.0.1', r));
  process.env.AWS_ENDPOINT_URL_GLUE = `http://127.0.0.1:${(glue.server.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(sts.server.address() as AddressInfo).port}`;
  bucket = await freshBucket('glue');
});

afterAll(() => {
  delete process.env.AWS_ENDPOINT_URL_GLUE;
  delete process.env.AWS_ENDPOINT_URL_STS;
  glue.server.close();
  sts.server.close();
});

describe('Glue registration at every publish', () => {
  it('creates, then updates with previous_metadata_location and VersionId; never moves back; retries a concurrent change', async () => {
    setEnv('LAKEHOUSE_GLUE_DATABASE', 'lakehouse_db');
    const loc = (v: number) => `s3://${bucket}/datasets/sales/metadata/v${v}.metadata.json`;
    await upload('id,city,amount\n1,Chicago,12.5\n', { name: 'sales' });
    let t = glue.tables.get('lakehouse_db.sales')!;
    expect(t.TableType).toBe('EXTERNAL_TABLE');
    expect(t.Parameters).toEqual({ table_type: 'ICEBERG', metadata_location: loc(1) });
    expect(t.StorageDescriptor).toEqual({
      Location: `s3://${bucket}/datasets/sales`,
      Columns: [
        { Name: 'id', Type: 'bigint' },
        { Name: 'city', Type: 'string' },
        { Name: 'amount', Type: 'double' },
      ],
    });

    await upload('id,city,amount\n2,Peoria,1.5\n', { name: 'sales', mode: 'append' });
    t = glue.tables.get('lakehouse_db.sales')!;
    expect(t.Parameters).toEqual({ table_type: 'ICEBERG', metadata_location: loc(2), previous_metadata_location: loc(1) });
    expect(t.VersionId).toBe('2');

    // a late publisher of an older version leaves Glue alone
    await registerInGlue('sales', `s3://${bucket}/datasets/sales`, loc(1));
    expect(glue.tables.get('lakehouse_db.sales')!.Parameters.metadata_location).toBe(loc(2));

    // someone else changed the table between our GetTable and UpdateTable: re-read, retry
    glue.interfereOnce();
    glue.calls.length = 0;
    await upload('id,city,amount\n3,Boston,2.5\n', { name: 'sales', mode: 'append' });
    expect(glue.calls).toEqual(['GetTable', 'UpdateTable', 'GetTable', 'UpdateTable']);
    t = glue.tables.get('lakehouse_db.sales')!;
    expect(t.Parameters.metadata_location).toBe(loc(3));
    expect(t.Parameters.previous_metadata_location).toBe(loc(2));
  });

  it('without LAKEHOUSE_GLUE_DATABASE nothing is sent to Glue', async () => {
    setEnv('LAKEHOUSE_GLUE_DATABASE', undefined);
    glue.calls.length = 0;
    await upload('id\n1\n', { name: 'no_glue' });
    expect(glue.calls).toEqual([]);
  });
});

describe('vended credentials (STS)', () => {
  const load = loadTableHttp;

  it('loadTable vends AssumeRole credentials scoped by the session policy to that table', async () => {
    await upload('id\n1\n', { name: 'creds' });
    setEnv('LAKEHOUSE_ICEBERG_READ_ROLE_ARN', undefined);
    expect((await load('creds')).json['storage-credentials']).toBeUndefined();
    expect(sts.requests).toEqual([]);

    setEnv('LAKEHOUSE_ICEBERG_READ_ROLE_ARN', 'arn:aws:iam::123456789012:role/lakehouse-dev-iceberg-read');
    const r = await load('creds');
    expect(r.status).toBe(200);
    expect(r.json['storage-credentials']).toEqual([
      {
        prefix: `s3://${bucket}/datasets/creds/`,
        config: {
          's3.access-key-id': 'ASIAVENDED',
          's3.secret-access-key': 'vended-secret',
          's3.session-token': 'vended-token',
          's3.session-token-expires-at-ms': String(Date.parse('2030-01-01T00:00:00Z')),
          'client.region': 'us-east-1',
        },
      },
    ]);
    expect(icebergSchemaProblems('LoadTableResult', r.json)).toEqual([]);
    expect(sts.requests).toHaveLength(1);
    const asked = sts.requests[0]!;
    expect(asked.Action).toBe('AssumeRole');
    expect(asked.RoleArn).toBe('arn:aws:iam::123456789012:role/lakehouse-dev-iceberg-read');
    expect(JSON.parse(asked.Policy!)).toEqual(JSON.parse(sessionPolicy(bucket, 'datasets/creds/')));
  });

  it('an unrendered template (serverless-offline) is no role: nothing vended', async () => {
    setEnv('LAKEHOUSE_ICEBERG_READ_ROLE_ARN', 'arn:aws:iam::${AWS::AccountId}:role/lakehouse-dev-iceberg-read');
    sts.requests.length = 0;
    expect((await load('creds')).json['storage-credentials']).toBeUndefined();
    expect(sts.requests).toEqual([]);
  });
});

describe('pure pieces', () => {
  it('Glue table input and version order', () => {
    const input = tableInput({ name: 't', location: 's3://b/datasets/t', metadataLocation: 's3://b/datasets/t/metadata/v3.metadata.json', columns: [{ name: 'd', type: 'decimal(10, 2)' }, { name: 'z', type: 'timestamptz' }] });
    expect(input.Parameters).toEqual({ table_type: 'ICEBERG', metadata_location: 's3://b/datasets/t/metadata/v3.metadata.json' });
    expect(input.StorageDescriptor!.Columns).toEqual([{ Name: 'd', Type: 'decimal(10,2)' }, { Name: 'z', Type: 'timestamp' }]);
    expect(isOlder('s3://b/t/metadata/v2.metadata.json', 's3://b/t/metadata/v10.metadata.json')).toBe(true);
    expect(isOlder('s3://b/t/metadata/v11.metadata.json', 's3://b/t/metadata/v10.metadata.json')).toBe(false);
    expect(isOlder('s3://b/t/metadata/v2.metadata.json', undefined)).toBe(false);
  });

  it('the vended credentials can read one table prefix only', () => {
    const p = JSON.parse(sessionPolicy('bkt', 'datasets/sales/'));
    expect(p.Statement).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::bkt/datasets/sales/*'] },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::bkt'], Condition: { StringLike: { 's3:prefix': ['datasets/sales/*'] } } },
    ]);
  });

  it('type mapping: exact types only', () => {
    expect(['BIGINT', 'DOUBLE', 'BOOLEAN', 'DATE', 'TIMESTAMP', 'VARCHAR'].map(icebergType)).toEqual(['long', 'double', 'boolean', 'date', 'timestamp', 'string']);
    expect(icebergType('DECIMAL(38,4)')).toBe('decimal(38, 4)');
    for (const t of ['HUGEINT', 'UBIGINT', 'TINYINT', 'SMALLINT', 'TIME', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'INTERVAL', 'UUID']) expect(icebergType(t)).toBeUndefined();
  });

  it('metadata file names, snapshot ids', () => {
    expect(String(MetadataFileName.of(7))).toBe('v7.metadata.json');
    expect(MetadataFileName.parse('v12.metadata.json')!.previous()!.version).toBe(11);
    expect(MetadataFileName.parse('v0.metadata.json')).toBeUndefined();
    expect(MetadataFileName.parse('00001-abc.metadata.json')).toBeUndefined();
    expect(MetadataFileName.of(1).previous()).toBeUndefined();
    const id = snapshotId('a8f3c1d2-4e5b-5a6c-9d8e-7f0a1b2c3d4e', 3);
    expect(id).toBe(snapshotId('a8f3c1d2-4e5b-5a6c-9d8e-7f0a1b2c3d4e', 3));
    expect(id).not.toBe(snapshotId('a8f3c1d2-4e5b-5a6c-9d8e-7f0a1b2c3d4e', 4));
    expect(Number.isSafeInteger(id) && id > 0).toBe(true);
  });

  it('errors in the Iceberg REST shape', () => {
    const e = icebergErrorResponse(new LakehouseError('no_such_table', 'Table does not exist: lakehouse.x (it does not exist).'));
    expect(e).toEqual({ status: 404, body: { error: { message: 'Table does not exist: lakehouse.x (it does not exist).', type: 'NoSuchTableException', code: 404 } } });
    expect(icebergSchemaProblems('IcebergErrorResponse', e.body)).toEqual([]);
    expect(icebergErrorResponse(new Error('boom')).body.error).toEqual({ message: 'An internal error occurred.', type: 'InternalServerError', code: 500 });
  });
});
