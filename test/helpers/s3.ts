/** Test buckets on the real embedded server: one fresh bucket per test file (or per call). */
import crypto from 'node:crypto';
import { CreateBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { s3 } from '../../lib/storage/client.js';
import { resetConditionalProbe } from '../../lib/storage/conditional.js';

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
