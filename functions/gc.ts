/**
 * Orphan cleanup (scheduled daily; `sls invoke local -f gc --path events/gc.json` locally).
 * Payload: {"dryRun": true|false, "graceMs": <ms>} — dry run by default when invoked by hand.
 */
import { collectGarbage } from '../lib/catalog/gc.js';
import { config } from '../lib/config.js';
import { errorResponse } from '../lib/http/errors.js';

export const handler = async (event: unknown) => {
  const e = (event ?? {}) as { dryRun?: unknown; graceMs?: unknown };
  try {
    return await collectGarbage({
      dryRun: e.dryRun !== false,
      graceMs: typeof e.graceMs === 'number' && e.graceMs >= 0 ? e.graceMs : config().gcGraceMs,
    });
  } catch (err) {
    return errorResponse(err).body;
  }
};
