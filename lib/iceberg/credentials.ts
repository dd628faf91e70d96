/**
 * Vended credentials for loadTable (Iceberg REST `storage-credentials`): on AWS, the catalog
 * assumes LAKEHOUSE_ICEBERG_READ_ROLE_ARN with a session policy that narrows it to reading one
 * table's prefix, so a client gets short-lived, read-only access to exactly that table. The
 * effective permissions are the intersection of the role's policy (serverless.yml) and this one.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { config } from '../config.js';

let client: STSClient | undefined;
function sts(): STSClient {
  client ??= new STSClient({ region: config().region });
  return client;
}

/** The session policy: GetObject under the table's prefix, ListBucket restricted to that prefix. */
export function sessionPolicy(bucket: string, tablePrefix: string): string {
  const prefix = tablePrefix.endsWith('/') ? tablePrefix : `${tablePrefix}/`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/${prefix}*`] },
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [`arn:aws:s3:::${bucket}`],
        Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      },
    ],
  });
}

export interface StorageCredential {
  prefix: string;
  config: Record<string, string>;
}

/** Read-only credentials for one table, or undefined when no read role is configured (e.g. locally). */
export async function vendCredentials(bucket: string, tablePrefix: string): Promise<StorageCredential | undefined> {
  const c = config();
  if (!c.icebergReadRoleArn) return undefined;
  const r = await sts().send(
    new AssumeRoleCommand({
      RoleArn: c.icebergReadRoleArn,
      RoleSessionName: `lakehouse-iceberg-read`,
      Policy: sessionPolicy(bucket, tablePrefix),
      DurationSeconds: 3600,
    }),
  );
  const k = r.Credentials;
  if (!k?.AccessKeyId || !k.SecretAccessKey || !k.SessionToken) throw new Error('STS returned no credentials');
  return {
    prefix: `s3://${bucket}/${tablePrefix.replace(/\/?$/, '/')}`,
    config: {
      's3.access-key-id': k.AccessKeyId,
      's3.secret-access-key': k.SecretAccessKey,
      's3.session-token': k.SessionToken,
      ...(k.Expiration ? { 's3.session-token-expires-at-ms': String(k.Expiration.getTime()) } : {}),
      'client.region': c.region,
    },
  };
}
