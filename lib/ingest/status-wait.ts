/**
 * `GET /uploads/{id}?wait=N`: the status once it moves. A client waiting for `ready` sends one
 * request that holds until the record's state changes, instead of polling: fewer requests, and the
 * answer comes within a re-read of the change (a poll every second can be a second late).
 *
 * The record is re-read with conditional GETs (If-None-Match on the ETag read: 304 and no body
 * while unchanged) through the fast path of lib/storage/exists.ts — a signed plain request, not the
 * SDK's middleware, which costs ~3 ms of CPU per 304 (eight clients waiting at once took most of a
 * core) — every 50 ms for the first 2 s of a wait (an ingest of tens of MB), every 100 ms up to
 * 10 s, then every 250 ms. Each re-read costs ~2.5 ms of CPU between the function and a local S3
 * server; at 25 ms that was ~0.1 core taken from the ingest the client waits for (ADR 0017).
 */
import { getJsonVersioned } from '../storage/objects.js';
import { jsonIfChanged } from '../storage/exists.js';
import { badRequest } from '../errors.js';
import { keys } from '../storage/keys.js';
import type { UploadRecord, UploadState } from './status.js';

/** The longest wait a request may ask for (below API Gateway's 30 s integration timeout). */
export const MAX_WAIT_SECONDS = 20;
const FINAL: ReadonlySet<UploadState> = new Set(['ready', 'failed', 'expired']);

/** `wait` as a query parameter: whole seconds from 0 to MAX_WAIT_SECONDS; absent is 0. */
export function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= MAX_WAIT_SECONDS)) {
    throw badRequest('invalid_wait', `wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}.`, { wait: raw.slice(0, 50) });
  }
  return n;
}

/** How long to pause before the next re-read, `elapsedMs` into a wait. */
export function recheckAfter(elapsedMs: number): number {
  return elapsedMs < 2000 ? 50 : elapsedMs < 10_000 ? 100 : 250;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The upload's record: at once when it is final (ready, failed, expired) or `waitMs` is 0; else as
 * soon as its state differs from the one first read, or, when `waitMs` has passed, as it is then.
 * Undefined when there is no record.
 */
export async function readStatusWhenChanged(uploadId: string, waitMs: number): Promise<UploadRecord | undefined> {
  const key = keys.uploadStatus(uploadId);
  const first = await getJsonVersioned<UploadRecord>(key);
  if (!first || waitMs <= 0 || FINAL.has(first.value.state) || !first.etag) return first?.value;
  const started = Date.now();
  let current = { value: first.value, etag: first.etag };
  for (;;) {
    const elapsed = Date.now() - started;
    const ms = Math.min(recheckAfter(elapsed), waitMs - elapsed);
    if (ms <= 0) return current.value;
    await pause(ms);
    // a conditional GET through the fast path of lib/storage/exists.ts: 304, no body, while unchanged
    const r = await jsonIfChanged<UploadRecord>(key, current.etag);
    if (r === undefined) return undefined;
    if (r === 'unchanged') continue;
    if (r.value.state !== first.value.state || FINAL.has(r.value.state) || !r.etag) return r.value;
    current = { value: r.value, etag: r.etag };
  }
}
