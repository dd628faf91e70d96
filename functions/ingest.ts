/**
 * S3 ObjectCreated on uploads/ → ingest each record. Failures are recorded in the upload's status;
 * the handler itself only throws on infrastructure errors, so that S3/Lambda retry those.
 */
import { parseS3Event } from '../lib/storage/events.js';
import { ingestEvent, warmIngest, type IngestOutcome } from '../lib/ingest/pipeline.js';
import { log, withLogContext } from '../lib/log.js';

/** `{"lakehouse_warmup": true}`: load, create DuckDB and the manifest writer, ingest nothing (npm start sends it). */
const isWarmup = (e: unknown) => typeof e === 'object' && e !== null && (e as Record<string, unknown>).lakehouse_warmup === true;

export const handler = async (event: unknown, context?: { awsRequestId?: string }) =>
  withLogContext({ request_id: context?.awsRequestId, fn: 'ingest' }, async () => {
    if (isWarmup(event)) return { results: [] as IngestOutcome[], warmed: await warmIngest() };
    const records = parseS3Event(event);
    if (records.length === 0) log.warn('ingest: event without S3 records');
    const results: IngestOutcome[] = [];
    for (const r of records) {
      if (!r.eventName.startsWith('ObjectCreated')) continue;
      log.info('ingest: event', { event: r.eventName, key: r.keys[0], size: r.size });
      results.push(await ingestEvent(r));
    }
    return { results };
  });
