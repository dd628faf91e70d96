/**
 * Does the store honour conditional writes? AWS S3 and MinIO honour both `PUT If-None-Match: *`
 * (create-only) and `PUT If-Match: <etag>` (replace only that version); the embedded server
 * ignores them (docs/toolchain.md). Detected once per process and bucket with a probe object
 * under _locks/; LAKEHOUSE_CONDITIONAL_WRITES=on|off overrides the probe.
 */
import crypto from 'node:crypto';
import { putObject, deleteObject, isPreconditionFailed, isConditionalConflict, isNotFound, storageError } from './objects.js';
import { bucket } from './client.js';
import { keys } from './keys.js';
import { config } from '../config.js';
import { log } from '../log.js';

export interface ConditionalSupport {
  /** PUT If-None-Match: * fails when the key exists. */
  ifNoneMatch: boolean;
  /** PUT If-Match: <etag> fails when the object's ETag differs. */
  ifMatch: boolean;
}

const probed = new Map<string, Promise<ConditionalSupport>>();

function support(): Promise<ConditionalSupport> {
  const c = config();
  if (c.conditionalWrites === 'on') return Promise.resolve({ ifNoneMatch: true, ifMatch: true });
  if (c.conditionalWrites === 'off') return Promise.resolve({ ifNoneMatch: false, ifMatch: false });
  const id = `${c.s3Endpoint ?? 'aws'}|${bucket()}`;
  let p = probed.get(id);
  if (!p) {
    p = probe().catch((e) => {
      probed.delete(id);
      throw e;
    });
    probed.set(id, p);
  }
  return p;
}

/** PUT If-None-Match: * honoured (catalog commits without the lock). */
export async function conditionalWritesSupported(): Promise<boolean> {
  return (await support()).ifNoneMatch;
}

/** Both create-only and compare-and-swap puts honoured (status records without the lock). */
export async function compareAndSwapSupported(): Promise<boolean> {
  const s = await support();
  return s.ifNoneMatch && s.ifMatch;
}

const refused = (e: unknown) => isPreconditionFailed(e) || isConditionalConflict(e);

async function probe(): Promise<ConditionalSupport> {
  const key = keys.conditionalProbe(crypto.randomUUID());
  try {
    await putObject(key, 'probe', { ifNoneMatch: true });
  } catch (e) {
    throw storageError('conditional-write probe', e);
  }
  const out: ConditionalSupport = { ifNoneMatch: false, ifMatch: false };
  try {
    try {
      await putObject(key, 'probe-2', { ifNoneMatch: true });
    } catch (e) {
      if (refused(e)) out.ifNoneMatch = true;
      else throw storageError('conditional-write probe', e);
    }
    try {
      // an ETag the object does not have must be refused
      await putObject(key, 'probe-3', { ifMatch: 'lakehouse-probe-not-the-etag' });
    } catch (e) {
      if (refused(e) || isNotFound(e)) out.ifMatch = true;
      else throw storageError('conditional-write probe', e);
    }
  } finally {
    await deleteObject(key).catch(() => undefined);
  }
  log.info('conditional writes probed', { ...out });
  return out;
}

/** For tests: forget probe results. */
export function resetConditionalProbe(): void {
  probed.clear();
}
