/**
 * Reading our Iceberg tables back with code that is not ours: the Iceberg REST OpenAPI document
 * (vendored, test/fixtures) for schema validation, and icebird (npm) as an independent reader.
 * icebird fetches `s3://b/k` as `https://b.s3.amazonaws.com/k`; `withLocalS3` points those
 * requests at the embedded server for the duration of a call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { icebergRead } from 'icebird';
import { callHttp, type HttpReply } from './lambda.js';

const doc = parse(fs.readFileSync(path.resolve('test/fixtures/iceberg-rest-catalog-open-api.yaml'), 'utf8')) as { components: unknown };
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ $id: 'iceberg-rest', components: doc.components });

/** Problems of a value against a schema of the Iceberg REST OpenAPI document (components/schemas/<name>). */
export function icebergSchemaProblems(schemaName: string, value: unknown): string[] {
  const validate = ajv.getSchema(`iceberg-rest#/components/schemas/${schemaName}`);
  if (!validate) throw new Error(`no schema ${schemaName}`);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Runs fn with global fetch redirecting AWS virtual-host S3 URLs to the local S3 endpoint (path style). */
export async function withLocalS3<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  const real = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const m = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
    return real(m ? `${endpoint.replace(/\/$/, '')}/${m[1]}/${m[2]}` : input, init);
  }) as typeof fetch;
  try {
    return await fn();
  } finally {
    globalThis.fetch = real;
  }
}

/** Every row of one table version, read by icebird. */
export function readWithIcebird(endpoint: string, tableUrl: string, metadataFileName: string): Promise<Array<Record<string, unknown>>> {
  return withLocalS3(endpoint, () => icebergRead({ tableUrl, metadataFileName }));
}

/** GET /iceberg/v1/namespaces/lakehouse/tables/{name} through the function's real entry point. */
export async function loadTableHttp(name: string): Promise<HttpReply> {
  const { handler } = await import('../../functions/iceberg.js');
  return callHttp(handler, {
    method: 'GET',
    path: `/iceberg/v1/namespaces/lakehouse/tables/${name}`,
    routeKey: 'GET /iceberg/v1/namespaces/{namespace}/tables/{table}',
    pathParameters: { namespace: 'lakehouse', table: name },
  });
}
