/**
 * Does the store honour conditional writes (PUT If-None-Match: *)? AWS S3 and MinIO do; the
 * embedded server ignores them (docs/toolchain.md). Detected once per process and bucket with a probe
 * object under _locks/; LAKEHOUSE_CONDITIONAL_WRITES=on|off overrides the probe.
 */
import crypto from 'node:crypto';
import { putObject, deleteObject, isPreconditionFailed, isConditionalConflict, storageError } from './objects.js';
import { bucket } from './client.js';
import { config } from '../config.js';
import { log } from '../log.js';

const probed = new Map<string, Promise<boolean>>();

export function conditionalWritesSupported(): Promise<boolean> {
  const mode = (process.env.LAKEHOUSE_CONDITIONAL_WRITES ?? 'auto').toLowerCase();
  if (mode === 'on') return Promise.resolve(true);
  if (mode === 'off') return Promise.resolve(false);
  const id = `${config().s3Endpoint ?? 'aws'}|${bucket()}`;
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

async function probe(): Promise<boolean> {
  const key = `_locks/_probe/${crypto.randomUUID()}`;
  try {
    await putObject(key, 'probe', { ifNoneMatch: true });
  } catch (e) {
    throw storageError('conditional-write probe', e);
  }
  let honoured = false;
  try {
    await putObject(key, 'probe-2', { ifNoneMatch: true });
  } catch (e) {
    if (isPreconditionFailed(e) || isConditionalConflict(e)) honoured = true;
    else throw storageError('conditional-write probe', e);
  } finally {
    await deleteObject(key).catch(() => undefined);
  }
  log.info('conditional writes probed', { honoured });
  return honoured;
}

/** For tests: forget probe results. */
export function resetConditionalProbe(): void {
  probed.clear();
}
