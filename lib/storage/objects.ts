/**
 * Object operations used by the domain, with S3 errors classified into typed outcomes.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  CreateBucketCommand,
  HeadBucketCommand,
  type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3, bucket } from './client.js';
import { keys, validateKey } from './keys.js';
import { LakehouseError, errorMessage } from '../errors.js';

interface AwsErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function s3Status(e: unknown): number | undefined {
  return (e as AwsErrorShape)?.$metadata?.httpStatusCode;
}

export function isNotFound(e: unknown): boolean {
  const err = e as AwsErrorShape;
  return err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.Code === 'NoSuchKey' || s3Status(e) === 404;
}

export function isPreconditionFailed(e: unknown): boolean {
  const err = e as AwsErrorShape;
  return err?.name === 'PreconditionFailed' || s3Status(e) === 412;
}

/** 409 ConditionalRequestConflict: a concurrent conditional write is in flight (AWS). */
export function isConditionalConflict(e: unknown): boolean {
  const err = e as AwsErrorShape;
  return err?.name === 'ConditionalRequestConflict' || s3Status(e) === 409;
}

export function storageError(op: string, e: unknown): LakehouseError {
  return new LakehouseError(
    'storage_error',
    `The object store failed during ${op}.`,
    { cause: (e as AwsErrorShape)?.name ?? errorMessage(e).slice(0, 200) },
  );
}

export interface Head {
  size: number;
  lastModified: Date | undefined;
  etag: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
}

export async function headObject(key: string): Promise<Head | undefined> {
  validateKey(key);
  try {
    const r = await s3().send(new HeadObjectCommand({ Bucket: bucket(), Key: key }));
    return {
      size: r.ContentLength ?? 0,
      lastModified: r.LastModified,
      etag: r.ETag?.replace(/"/g, ''),
      contentType: r.ContentType,
      metadata: r.Metadata ?? {},
    };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw storageError('HEAD', e);
  }
}

export async function getObjectBytes(key: string): Promise<Buffer | undefined> {
  validateKey(key);
  try {
    const r = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    const bytes = await r.Body!.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw storageError('GET', e);
  }
}

/** Bytes [start, end) of an object (a ranged GET), or undefined when it does not exist. */
export async function getObjectRange(key: string, start: number, end: number): Promise<Buffer | undefined> {
  validateKey(key);
  try {
    const r = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key, Range: `bytes=${start}-${end - 1}` }));
    const bytes = await r.Body!.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw storageError('GET', e);
  }
}

export async function getJson<T>(key: string): Promise<T | undefined> {
  const b = await getObjectBytes(key);
  if (!b) return undefined;
  return JSON.parse(b.toString('utf8')) as T;
}

/** A JSON object and the ETag of the version read (for a conditional rewrite with If-Match). */
export async function getJsonVersioned<T>(key: string): Promise<{ value: T; etag: string | undefined } | undefined> {
  validateKey(key);
  try {
    const r = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    const bytes = await r.Body!.transformToByteArray();
    return { value: JSON.parse(Buffer.from(bytes).toString('utf8')) as T, etag: r.ETag?.replace(/"/g, '') };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw storageError('GET', e);
  }
}

export interface PutOptions {
  contentType?: string;
  /** Only create: fails with PreconditionFailed if the key exists (where the store honours it). */
  ifNoneMatch?: boolean;
  /** Only replace this version: fails with PreconditionFailed if the object's ETag differs (where the store honours it). */
  ifMatch?: string;
  metadata?: Record<string, string>;
}

export async function putObject(key: string, body: Buffer | Uint8Array | string, opts: PutOptions = {}): Promise<string | undefined> {
  validateKey(key);
  const r = await s3().send(
    new PutObjectCommand({
      Bucket: bucket(),
      Key: key,
      Body: body,
      ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      ContentType: opts.contentType,
      ...(opts.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      ...(opts.ifMatch !== undefined ? { IfMatch: `"${opts.ifMatch}"` } : {}),
      ...(opts.metadata ? { Metadata: opts.metadata } : {}),
    }),
  );
  return r.ETag?.replace(/"/g, '');
}

export async function putJson(key: string, value: unknown): Promise<void> {
  try {
    await putObject(key, JSON.stringify(value), { contentType: 'application/json' });
  } catch (e) {
    throw storageError('PUT', e);
  }
}

export async function deleteObject(key: string): Promise<void> {
  validateKey(key);
  try {
    await s3().send(new DeleteObjectCommand({ Bucket: bucket(), Key: key }));
  } catch (e) {
    if (isNotFound(e)) return;
    throw storageError('DELETE', e);
  }
}

export async function deleteObjects(keyList: string[]): Promise<void> {
  for (let i = 0; i < keyList.length; i += 1000) {
    const batch = keyList.slice(i, i + 1000);
    batch.forEach(validateKey);
    try {
      await s3().send(
        new DeleteObjectsCommand({ Bucket: bucket(), Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
    } catch (e) {
      throw storageError('DELETE', e);
    }
  }
}

export interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  /** Stop after this many keys in total. */
  limit?: number;
  pageSize?: number;
}

export interface ListPage {
  objects: _Object[];
  prefixes: string[];
}

/** The first key under a prefix in listing order (one LIST, MaxKeys=1), or undefined. */
export async function firstKey(prefix: string): Promise<string | undefined> {
  try {
    const r = await s3().send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix, MaxKeys: 1 }));
    return r.Contents?.[0]?.Key;
  } catch (e) {
    throw storageError('LIST', e);
  }
}

/** Lists every object (and common prefix) under a prefix, following continuation tokens. */
export async function listAll(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
  const objects: _Object[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  do {
    let r;
    try {
      r = await s3().send(
        new ListObjectsV2Command({
          Bucket: bucket(),
          Prefix: prefix,
          Delimiter: opts.delimiter,
          StartAfter: token ? undefined : opts.startAfter,
          ContinuationToken: token,
          MaxKeys: opts.limit ? Math.min(opts.pageSize ?? 1000, opts.limit - objects.length) : opts.pageSize,
        }),
      );
    } catch (e) {
      throw storageError('LIST', e);
    }
    for (const o of r.Contents ?? []) objects.push(o);
    for (const p of r.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
    if (opts.limit && objects.length >= opts.limit) break;
  } while (token);
  return { objects, prefixes };
}

/**
 * Lists keys under a prefix in listing order while `more(key)` holds: stops at the first key for
 * which it does not (that key is not returned), following continuation tokens only as far as needed.
 */
export async function listWhile(prefix: string, more: (key: string) => boolean, pageSize = 1000): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    let r;
    try {
      r = await s3().send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix, ContinuationToken: token, MaxKeys: pageSize }));
    } catch (e) {
      throw storageError('LIST', e);
    }
    for (const o of r.Contents ?? []) {
      if (!more(o.Key!)) return out;
      out.push(o.Key!);
    }
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Streams an object to a local file; returns its size. */
export async function downloadToFile(key: string, file: string): Promise<number> {
  validateKey(key);
  let r;
  try {
    r = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
  } catch (e) {
    if (isNotFound(e)) throw new LakehouseError('not_found', `Object ${key} does not exist.`);
    throw storageError('GET', e);
  }
  await pipeline(r.Body as Readable, fs.createWriteStream(file));
  return (await fs.promises.stat(file)).size;
}

/**
 * An object's body as a stream (optionally a byte range), refused with `object_changed` when the
 * object is no longer the one whose ETag the caller saw.
 */
export async function getObjectStream(key: string, opts: { etag?: string; range?: [number, number] } = {}): Promise<Readable> {
  validateKey(key);
  let r;
  try {
    r = await s3().send(
      new GetObjectCommand({
        Bucket: bucket(),
        Key: key,
        ...(opts.etag ? { IfMatch: `"${opts.etag}"` } : {}),
        ...(opts.range ? { Range: `bytes=${opts.range[0]}-${opts.range[1] - 1}` } : {}),
      }),
    );
  } catch (e) {
    if (isNotFound(e)) throw new LakehouseError('not_found', `Object ${key} does not exist.`);
    if (isPreconditionFailed(e)) throw new LakehouseError('object_changed', `Object ${key} changed while it was read.`);
    throw storageError('GET', e);
  }
  const etag = r.ETag?.replace(/"/g, '');
  if (opts.etag && etag && etag !== opts.etag) {
    (r.Body as Readable).destroy();
    throw new LakehouseError('object_changed', `Object ${key} changed while it was read.`);
  }
  return r.Body as Readable;
}

/**
 * Up to this size a file goes up in one PUT: multipart costs three more requests (and, on the
 * local server, a copy of every part) for no gain at this size — 10 MB: 52–100 ms in one PUT
 * against 126–206 ms in two parts (docs/BASELINE.md). Above it, parts of 8 MiB, 4 in flight.
 */
const SINGLE_PUT_MAX = 16 * 1024 * 1024;

/** Uploads a local file (one PUT up to 16 MiB, from memory so the SDK can retry it; multipart above: 8 MiB parts, 4 in flight, 32 MiB in memory at most). */
export async function uploadFile(key: string, file: string, contentType: string): Promise<void> {
  validateKey(key);
  const size = (await fs.promises.stat(file)).size;
  try {
    if (size <= SINGLE_PUT_MAX) {
      const body = await fs.promises.readFile(file);
      await s3().send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: body, ContentType: contentType }));
      return;
    }
    const body = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
    try {
      await new Upload({ client: s3(), params: { Bucket: bucket(), Key: key, Body: body, ContentType: contentType }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done();
    } finally {
      body.destroy();
    }
  } catch (e) {
    throw storageError('PUT', e);
  }
}

export async function presignPut(key: string, opts: { size?: number; expiresIn: number }): Promise<string> {
  validateKey(key);
  const cmd = new PutObjectCommand({
    Bucket: bucket(),
    Key: key,
    ...(opts.size !== undefined ? { ContentLength: opts.size } : {}),
  });
  return getSignedUrl(s3(), cmd, {
    expiresIn: opts.expiresIn,
    ...(opts.size !== undefined ? { signableHeaders: new Set(['content-length']) } : {}),
  });
}

export async function presignGet(key: string, expiresIn: number, downloadName?: string): Promise<string> {
  validateKey(key);
  const cmd = new GetObjectCommand({
    Bucket: bucket(),
    Key: key,
    ...(downloadName ? { ResponseContentDisposition: `attachment; filename="${downloadName}"` } : {}),
  });
  return getSignedUrl(s3(), cmd, { expiresIn });
}

/**
 * The origin (scheme://host[:port]) of the URLs presignPut/presignGet hand out: exactly what a
 * browser page must be allowed to connect to for a presigned PUT (the console's CSP). Presigning
 * is local (no request); the key is never fetched.
 */
export async function presignedOrigin(): Promise<string> {
  return new URL(await presignGet(keys.result('origin-probe', 'csv'), 60)).origin;
}

/** Creates the bucket if missing (local stack and tests; on AWS the stack owns it). */
export async function ensureBucket(): Promise<void> {
  try {
    await s3().send(new HeadBucketCommand({ Bucket: bucket() }));
    return;
  } catch (e) {
    if (!isNotFound(e) && s3Status(e) !== 404 && s3Status(e) !== 403) throw storageError('HEAD bucket', e);
  }
  try {
    await s3().send(new CreateBucketCommand({ Bucket: bucket() }));
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw storageError('CREATE bucket', e);
  }
}
