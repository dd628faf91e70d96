/**
 * The one configured S3 client. Path-style addressing for non-AWS endpoints (MinIO, LocalStack,
 * the embedded server); checksums only when required so presigned URLs carry no checksum
 * parameters (STACK.md).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { config } from '../config.js';

let cached: { key: string; client: S3Client } | undefined;

export function s3(): S3Client {
  const c = config();
  const key = [c.s3Endpoint ?? '', c.region, process.env.AWS_ACCESS_KEY_ID ?? '', process.env.AWS_PROFILE ?? ''].join('|');
  if (cached && cached.key === key) return cached.client;
  cached?.client.destroy();
  const client = new S3Client({
    region: c.region,
    ...(c.s3Endpoint ? { endpoint: c.s3Endpoint, forcePathStyle: true } : {}),
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
