/**
 * The one configured S3 client. Path-style addressing for non-AWS endpoints (MinIO, LocalStack,
 * the embedded server); checksums only when required so presigned URLs carry no checksum
 * parameters (docs/toolchain.md).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { config } from '../config.js';

let cached: { key: string; client: S3Client } | undefined;

/**
 * Under `sls invoke local` (IS_LOCAL) and serverless-offline (IS_OFFLINE), with no S3_ENDPOINT,
 * the default is the local stack's S3 server and its credentials — so `npx sls invoke local`
 * works against `npm start` with no environment to set. Everywhere else: AWS and the default
 * credential chain.
 */
export function endpoint(): { url: string | undefined; localDefault: boolean } {
  const c = config();
  if (c.s3Endpoint) return { url: c.s3Endpoint, localDefault: false };
  if (process.env.IS_LOCAL === 'true' || process.env.IS_OFFLINE === 'true') {
    return { url: `http://127.0.0.1:${process.env.LAKEHOUSE_S3_PORT ?? '4569'}`, localDefault: true };
  }
  return { url: undefined, localDefault: false };
}

export function s3(): S3Client {
  const c = config();
  const ep = endpoint();
  const key = [ep.url ?? '', c.region, process.env.AWS_ACCESS_KEY_ID ?? '', process.env.AWS_PROFILE ?? ''].join('|');
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
  cached = { key, client };
  return client;
}

export function bucket(): string {
  return config().bucket;
}
