/**
 * Stuck uploads (scheduled every 5 minutes; `sls invoke local -f sweeper --path events/sweeper.json`
 * locally): an `ingesting` upload whose lease expired (its ingest died) is ingested again here, in
 * process, at most LAKEHOUSE_INGEST_MAX_ATTEMPTS times in all, then failed with `ingest_crashed`;
 * a `pending` upload past its URL's lifetime becomes `expired`. A failure is thrown (a failed
 * invocation to Lambda), never returned as a result.
 */
import { sweepUploads } from '../lib/ingest/status.js';
import { ingestEvent } from '../lib/ingest/pipeline.js';
import { bucket } from '../lib/storage/client.js';
import { invocationError } from '../lib/http/errors.js';
import { withLogContext } from '../lib/log.js';

export const handler = async (_event: unknown, context?: { awsRequestId?: string; getRemainingTimeInMillis?: () => number }) =>
  withLogContext({ request_id: context?.awsRequestId, fn: 'sweeper' }, async () => {
    try {
      return await sweepUploads({
        redrive: async (rec) => {
          const r = await ingestEvent({
            eventName: 'ObjectCreated:Sweeper',
            bucket: bucket(),
            keys: [rec.key],
            size: undefined,
            eTag: undefined,
            sequencer: undefined,
            eventTime: undefined,
          });
          return r.outcome === 'skipped' || r.outcome === 'ignored' ? `${r.outcome}: ${r.reason}` : r.outcome;
        },
        ...(context?.getRemainingTimeInMillis ? { remainingMs: () => context.getRemainingTimeInMillis!() } : {}),
      });
    } catch (e) {
      throw invocationError(e);
    }
  });
