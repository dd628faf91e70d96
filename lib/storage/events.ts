/**
 * S3 event records → keys. AWS URL-encodes keys in notifications (space as '+'); the embedded
 * server sends them raw. decodeEventKey() returns the AWS-decoded key first and the raw key as a
 * fallback candidate when they differ, so a HEAD on the candidates finds the object either way.
 */
export interface S3EventRecordLike {
  eventName?: string;
  eventSource?: string;
  eventTime?: string;
  s3?: {
    bucket?: { name?: string };
    object?: { key?: string; size?: number; eTag?: string; sequencer?: string };
  };
}

export interface ObjectEvent {
  eventName: string;
  bucket: string;
  /** Candidate keys, most likely first. */
  keys: string[];
  size: number | undefined;
  eTag: string | undefined;
  sequencer: string | undefined;
  eventTime: string | undefined;
}

export function decodeEventKey(raw: string): string[] {
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    decoded = undefined;
  }
  const out: string[] = [];
  if (decoded !== undefined) out.push(decoded);
  if (!out.includes(raw)) out.push(raw);
  return out;
}

export function parseS3Event(event: unknown): ObjectEvent[] {
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) return [];
  const out: ObjectEvent[] = [];
  for (const r of records as S3EventRecordLike[]) {
    const key = r?.s3?.object?.key;
    const b = r?.s3?.bucket?.name;
    if (typeof key !== 'string' || typeof b !== 'string') continue;
    out.push({
      eventName: r.eventName ?? '',
      bucket: b,
      keys: decodeEventKey(key),
      size: r.s3?.object?.size,
      eTag: r.s3?.object?.eTag?.replace(/"/g, ''),
      sequencer: r.s3?.object?.sequencer,
      eventTime: r.eventTime,
    });
  }
  return out;
}
