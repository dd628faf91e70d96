/**
 * The one configured S3 client. Path-style addressing for non-AWS endpoints (MinIO, LocalStack,
 * the embedded server); checksums only when required so presigned URLs carry no checksum
 * parameters (docs/toolchain.md).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { config } from '../config.js';
import { observeServerDate } from './clock.js';

let cached: { key: string; client: S3Client } | undefined;

/**
 * Under `sls invoke local` (IS_LOCAL) and serverless-offline (IS_OFFLINE), with no S3_ENDPOINT,
 * the default is the local stack's S3 server and its credentials — so `npx sls invoke local`
 * works against `npm start` with no environment to set. Everywhere else: AWS and the default
 * credential chain.
 */
export function endpoint(c = config()): { url: string | undefined; localDefault: boolean } {
  if (c.s3Endpoint) return { url: c.s3Endpoint, localDefault: false };
  if (c.local) return { url: `http://127.0.0.1:${c.localS3Port}`, localDefault: true };
  return { url: undefined, localDefault: false };
}

export function s3(): S3Client {
  const c = config();
  const ep = endpoint(c);
  const key = [ep.url ?? '', c.region, c.credentialsId].join('|');
  if (cached && cached.key === key) return cached.client;
  cached?.client.destroy();
  const client = new S3Client({
    region: c.region,
    ...(ep.url ? { endpoint: ep.url, forcePathStyle: true } : {}),
    ...(ep.localDefault ? { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
  });
  // the store's clock: every response's Date header (lib/storage/clock.ts)
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const headers = (out.response as { headers?: Record<string, string> } | undefined)?.headers;
      observeServerDate(headers?.['date'] ?? headers?.['Date']);
      return out;
    },
    { step: 'deserialize', name: 'lakehouseStoreClock' },
  );
  cached = { key, client };
  return client;
}

export function bucket(): string {
  return config().bucket;
}
