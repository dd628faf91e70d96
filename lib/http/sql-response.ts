/** The HTTP shape of a /sql result (lib/query returns the result; statuses and headers are built here). */
import type { HttpResponse } from './types.js';
import { MEDIA_TYPES } from '../query/request.js';
import type { QueryResult } from '../query/result.js';

/** Server-Timing: time to build the result, and to upload it when it spilled. */
function serverTiming(execMs: number, uploadMs: number): string {
  return `exec;dur=${execMs}` + (uploadMs ? `, upload;dur=${uploadMs}` : '');
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
      'server-timing': serverTiming(r.execMs, r.uploadMs),
    },
  };
}
