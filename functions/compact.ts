/**
 * POST /catalog/compact {name, target_bytes?} — and, scheduled (or `sls invoke local -f compact`),
 * a direct invocation {minObjects?, targetBytes?} that compacts every dataset with at least
 * `minObjects` objects (default 16) that has something to compact. A direct invocation that fails
 * throws (a failed invocation to Lambda); per-dataset failures are listed in its result.
 */
import { httpHandler, isHttpEvent } from '../lib/http/middleware.js';
import { invocationError } from '../lib/http/errors.js';
import { DEFAULT_TARGET_BYTES, compactAll, compactDataset, parseCompactRequest } from '../lib/catalog/compact.js';

const http = httpHandler(
  async (req) => {
    const { name, targetBytes } = parseCompactRequest(req.body);
    return { status: 200, json: await compactDataset(name, targetBytes) };
  },
  { jsonBody: true },
);

export const handler = async (event: unknown, context: unknown) => {
  if (isHttpEvent(event)) return http(event as never, context as never);
  const e = (event ?? {}) as { minObjects?: unknown; targetBytes?: unknown };
  try {
    return await compactAll({
      minObjects: typeof e.minObjects === 'number' && e.minObjects >= 2 ? e.minObjects : 16,
      targetBytes: typeof e.targetBytes === 'number' && e.targetBytes > 0 ? e.targetBytes : DEFAULT_TARGET_BYTES,
    });
  } catch (err) {
    throw invocationError(err);
  }
};
