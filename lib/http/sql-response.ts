/** The HTTP shape of a /sql result (lib/query returns the result; statuses and headers are built here). */
import type { HttpResponse } from './types.js';
import { MEDIA_TYPES } from '../query/request.js';
import type { QueryResult } from '../query/result.js';

/**
 * Server-Timing: the freshness probe (it overlaps the rest on a warm engine), fetching the objects
 * (with how many of how many, and bytes), building the result, uploading it when it spilled.
 */
function serverTiming(r: QueryResult): string {
  const s = r.scan;
  const fresh = r.freshMs !== undefined ? `fresh;dur=${r.freshMs.toFixed(2)}, ` : '';
  const fetch = s ? `fetch;dur=${s.materializeMs};desc="${s.objectsScanned}/${s.objectsTotal} objects, ${s.bytesFetched} bytes fetched", ` : '';
  return `${fresh}${fetch}exec;dur=${r.execMs}` + (r.uploadMs ? `, upload;dur=${r.uploadMs}` : '');
}

export function sqlResponse(r: QueryResult): HttpResponse {
  return {
    status: 200,
    raw: { body: r.body, contentType: MEDIA_TYPES[r.format] },
    headers: {
      'x-lakehouse-row-count': String(r.rowCount),
      'x-lakehouse-truncated': String(r.truncated),
      'x-lakehouse-query-id': r.queryId,
      'x-lakehouse-elapsed-ms': String(r.elapsedMs),
      ...(r.resultUrl ? { 'x-lakehouse-result-url': r.resultUrl } : {}),
      ...(r.scan
        ? { 'x-lakehouse-objects-scanned': String(r.scan.objectsScanned), 'x-lakehouse-objects-total': String(r.scan.objectsTotal) }
        : {}),
      'server-timing': serverTiming(r),
    },
  };
}
