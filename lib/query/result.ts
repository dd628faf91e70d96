/** What a query returns to its caller: the body and its facts. HTTP shaping is lib/http/sql-response.ts. */
import type { DuckDBType } from '@duckdb/node-api';
import type { Format } from './request.js';

export interface Column {
  name: string;
  type: DuckDBType;
}

export interface QueryResult {
  format: Format;
  /** json: the whole JSON document; csv/ndjson: the text; arrow: the IPC stream bytes. */
  body: string | Buffer;
  rowCount: number;
  truncated: boolean;
  queryId: string;
  elapsedMs: number;
  /** Presigned URL of the whole result when it did not fit inline. */
  resultUrl?: string;
  /** Time to build the result, and to upload it when it spilled. */
  execMs: number;
  uploadMs: number;
}
