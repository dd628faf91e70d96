/** Test buckets on the real embedded server: one fresh bucket per test file (or per call). */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, afterAll, expect } from 'vitest';
import { startS3Server, type S3ServerHandle } from '../../localstack/s3-server.js';
import { CreateBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { s3 } from '../../lib/storage/client.js';
import { conditionalWritesSupported, resetConditionalProbe } from '../../lib/storage/conditional.js';

export async function freshBucket(prefix = 't'): Promise<string> {
  const name = `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
  process.env.LAKEHOUSE_BUCKET = name;
  await s3().send(new CreateBucketCommand({ Bucket: name }));
  await s3().send(
    new PutBucketCorsCommand({
      Bucket: name,
      CORSConfiguration: {
        CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'HEAD'], AllowedHeaders: ['*'] }],
      },
    }),
  );
  resetConditionalProbe();
  return name;
}

/**
 * For a describe block: a second embedded S3 server that honours If-None-Match / If-Match (the
 * optimistic, lock-free paths), with a fresh bucket on it; the previous endpoint comes back after.
 * `reset` clears module state that remembers the store (probes, memos) on the way in and out.
 */
export function useConditionalServer(prefix: string, reset: () => void = () => undefined): void {
  let server: S3ServerHandle;
  let oldEndpoint: string | undefined;
  beforeAll(async () => {
    server = await startS3Server({ directory: fs.mkdtempSync(path.join(os.tmpdir(), 's3-cond-')), conditionalWrites: true });
    oldEndpoint = process.env.S3_ENDPOINT;
    process.env.S3_ENDPOINT = server.endpoint;
    await freshBucket(prefix);
    resetConditionalProbe();
    reset();
    expect(await conditionalWritesSupported()).toBe(true);
  });
  afterAll(async () => {
    process.env.S3_ENDPOINT = oldEndpoint;
    resetConditionalProbe();
    reset();
    await server.close();
  });
}
