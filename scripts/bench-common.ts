/** What the bench scripts share: an S3 client and the environment for the local stack's S3 server. */
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { Stack } from '../localstack/stack.js';

/** A client of the stack's embedded S3 server (its fixed local credentials). */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

/** The environment that points lib/ (in this process or a child) at a stack's bucket. */
export function stackEnv(stack: Pick<Stack, 's3' | 'bucket' | 'dataDir'>, endpoint = stack.s3): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LAKEHOUSE_BUCKET: stack.bucket,
    LAKEHOUSE_TMP_DIR: path.join(stack.dataDir, 'bench-tmp'),
    LAKEHOUSE_LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** The two-column schema (and its fingerprint) of the datasets the benches create by commit alone. */
export async function seedSchema(): Promise<{ schema: Array<{ name: string; type: string; nullable: boolean }>; fp: string }> {
  const { fingerprint } = await import('../lib/catalog/manifest.js');
  const schema = [
    { name: 'id', type: 'BIGINT', nullable: true },
    { name: 'label', type: 'VARCHAR', nullable: true },
  ];
  return { schema, fp: fingerprint(schema) };
}
