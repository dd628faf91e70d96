/** The slices of the API's JSON (openapi.yaml) the console reads. */
// the server's own declarations (dependency-free modules; types only, nothing enters the bundle)
export type { SchemaColumn, ObjectRef, Manifest } from '../lib/catalog/manifest-types.js';
export type { CsvHints, ColumnReport } from '../lib/ingest/report-types.js';
import type { ColumnReport } from '../lib/ingest/report-types.js';
import type { Manifest } from '../lib/catalog/manifest-types.js';

export interface PresignedUpload {
  upload_id: string;
  name: string;
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  status_url: string;
}

export interface Transformation {
  kind: string;
  [k: string]: unknown;
}

export interface IngestReport {
  columns: ColumnReport[];
  dialect: {
    delimiter: string;
    quote: string | null;
    escape: string | null;
    header: boolean;
    header_line: number | null;
    encoding: string;
    bom: boolean;
    line_ending: string;
    comment: string | null;
    trimmed: boolean;
    preamble_lines: number;
    preamble?: string[];
    footer_lines: number;
    footer?: string[];
    blank_lines: number;
    comment_lines: number;
    header_rows: number;
  };
  detected: { delimiter: string; quote: string | null; escape: string | null; header: boolean; header_rows: number; skip_lines: number; encoding: string; from_hints: string[] };
  confidence: {
    level: 'high' | 'low';
    score: number;
    header: string;
    header_evidence?: { column: number; value: string };
    runner_up?: { delimiter: string; quote: string | null; escape: string | null; score: number };
  };
  transformations: Transformation[];
  notes: string[];
  rows: number;
  rejected_rows?: number;
}

export interface UploadStatus {
  upload_id: string;
  name: string;
  state: 'pending' | 'ingesting' | 'ready' | 'failed' | 'expired';
  error?: { code: string; message: string; line?: number; column?: number; [k: string]: unknown };
  dataset?: Manifest;
  row_count?: number;
  rejected_rows?: number;
  rejects_url?: string;
  report?: IngestReport;
  timings_ms?: Record<string, number>;
}

export interface SqlColumn {
  name: string;
  type: string;
}

export interface SqlResult {
  columns: SqlColumn[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
  query_id: string;
  elapsed_ms: number;
  result_url?: string;
  rows_inline?: number;
}
