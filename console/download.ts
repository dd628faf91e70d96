/**
 * Downloads of a result in the formats POST /sql offers (CSV, JSON, NDJSON, an Arrow IPC stream):
 * the query runs again with `format`; a result that spilled to S3 is fetched through its presigned
 * `X-Lakehouse-Result-Url` link instead of the truncated inline body.
 */
import { apiFetch, errorOf } from './api.js';

export const FORMATS = [
  { format: 'csv', label: 'CSV', ext: 'csv' },
  { format: 'json', label: 'JSON', ext: 'json' },
  { format: 'ndjson', label: 'NDJSON', ext: 'ndjson' },
  { format: 'arrow', label: 'Arrow', ext: 'arrow' },
] as const;

export type Format = (typeof FORMATS)[number]['format'];

export interface QueryRequest {
  sql: string;
  params?: unknown;
  limit?: number;
}

/** Runs the download; returns what happened, for the page to say. */
export async function download(req: QueryRequest, format: Format): Promise<string> {
  const f = FORMATS.find((x) => x.format === format)!;
  const res = await apiFetch('/sql', { method: 'POST', json: { ...req, format } });
  if (!res.ok) throw await errorOf(res);
  const spilled = res.headers.get('x-lakehouse-result-url');
  const a = document.createElement('a');
  if (spilled) {
    a.href = spilled;
    a.rel = 'noreferrer';
  } else {
    a.href = URL.createObjectURL(await res.blob());
    a.download = `result-${res.headers.get('x-lakehouse-query-id') ?? 'query'}.${f.ext}`;
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  }
  document.body.append(a);
  a.click();
  a.remove();
  const rows = res.headers.get('x-lakehouse-row-count');
  return spilled ? `${f.label}: the whole result (${rows} rows) from S3.` : `${f.label}: ${rows} rows downloaded.`;
}
