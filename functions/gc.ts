/**
 * Orphan cleanup (scheduled daily; `sls invoke local -f gc --path events/gc.json` locally).
 * Payload: {"dryRun": true|false, "graceMs": <ms>} — dry run by default when invoked by hand.
 * Always a direct invocation: a failure is thrown, so Lambda records a failed invocation (retries,
 * error metrics, alarms) instead of a successful one carrying an error body.
 */
import { collectGarbage } from '../lib/catalog/gc.js';
import { config } from '../lib/config.js';
import { invocationError } from '../lib/http/errors.js';

export const handler = async (event: unknown) => {
  const e = (event ?? {}) as { dryRun?: unknown; graceMs?: unknown };
  try {
    return await collectGarbage({
      dryRun: e.dryRun !== false,
      graceMs: typeof e.graceMs === 'number' && e.graceMs >= 0 ? e.graceMs : config().gcGraceMs,
    });
  } catch (err) {
    throw invocationError(err);
  }
};
