/**
 * Local S3 event emulation: turns the embedded server's object events into AWS-shaped S3
 * notifications and delivers them to the functions whose `s3` events in serverless.yml match
 * (bucket, event pattern, prefix/suffix rules), through serverless-offline's Lambda invoke
 * endpoint (asynchronous 'Event' invocations, as S3 does on AWS).
 */
export interface S3EventSpec {
  bucket: string;
  event: string;
  prefix?: string;
  suffix?: string;
}

export interface Subscription {
  functionName: string;
  spec: S3EventSpec;
}

interface ResolvedService {
  service: string | { name: string };
  provider: { stage?: string; s3?: Record<string, { name?: string }> };
  functions: Record<string, { name?: string; events?: Array<Record<string, unknown>> }>;
}

/** Reads the s3 events out of a resolved service definition (`sls print --format json`). */
export function subscriptionsFrom(svc: ResolvedService, stage = 'dev'): Subscription[] {
  const serviceName = typeof svc.service === 'string' ? svc.service : svc.service.name;
  const subs: Subscription[] = [];
  for (const [fnKey, fn] of Object.entries(svc.functions ?? {})) {
    for (const ev of fn.events ?? []) {
      const s3 = ev.s3 as
        | string
        | { bucket: string; event?: string; rules?: Array<{ prefix?: string; suffix?: string }> }
        | undefined;
      if (!s3) continue;
      const spec = typeof s3 === 'string' ? { bucket: s3 } : s3;
      const bucketName = svc.provider.s3?.[spec.bucket]?.name ?? spec.bucket;
      const rules = typeof s3 === 'string' ? [] : (s3.rules ?? []);
      subs.push({
        functionName: fn.name ?? `${serviceName}-${svc.provider.stage ?? stage}-${fnKey}`,
        spec: {
          bucket: bucketName,
          event: (typeof s3 === 'string' ? undefined : s3.event) ?? 's3:ObjectCreated:*',
          prefix: rules.find((r) => r.prefix)?.prefix,
          suffix: rules.find((r) => r.suffix)?.suffix,
        },
      });
    }
  }
  return subs;
}

/** AWS URL-encodes keys in notifications, with '+' for spaces. */
export function awsEncodeKey(key: string): string {
  return key
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%20/g, '+'))
    .join('/');
}

function eventMatches(pattern: string, eventName: string): boolean {
  const p = pattern.replace(/^s3:/, '');
  if (p.endsWith(':*')) return eventName.startsWith(p.slice(0, -1));
  return p === eventName;
}

export interface RawRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

export function matches(sub: Subscription, rec: RawRecord): boolean {
  const key = rec.s3.object.key;
  return (
    rec.s3.bucket.name === sub.spec.bucket &&
    eventMatches(sub.spec.event, rec.eventName) &&
    (!sub.spec.prefix || key.startsWith(sub.spec.prefix)) &&
    (!sub.spec.suffix || key.endsWith(sub.spec.suffix))
  );
}

/** Normalises an s3rver event record to what AWS sends (encoded key, quoted eTag kept raw). */
export function toAwsEvent(rec: RawRecord & Record<string, unknown>): { Records: unknown[] } {
  return {
    Records: [
      {
        ...rec,
        eventName: rec.eventName === 'ObjectCreated:Post' ? 'ObjectCreated:CompleteMultipartUpload' : rec.eventName,
        s3: { ...rec.s3, object: { ...rec.s3.object, key: awsEncodeKey(rec.s3.object.key) } },
      },
    ],
  };
}

export async function invokeAsync(lambdaEndpoint: string, functionName: string, payload: unknown): Promise<number> {
  const res = await fetch(`${lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
    body: JSON.stringify(payload),
  });
  await res.arrayBuffer();
  return res.status;
}
