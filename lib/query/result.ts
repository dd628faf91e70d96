import type { Deadline } from './deadline.js';
import type { SqlRequest } from './request.js';
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
  /** How long the freshness probe (the catalog HEAD/LIST of each dataset read) took, when there was one. */
  freshMs?: number;
  /** Objects of the referenced datasets the query read, of all they hold (pruning), and bytes downloaded for it. */
  scan?: ScanFacts;
}

export interface ScanFacts {
  objectsScanned: number;
  objectsTotal: number;
  bytesFetched: number;
  materializeMs: number;
}

/** What every result builder gets of the request. */
export interface ResultRun {
  req: SqlRequest;
  queryId: string;
  started: number;
  /** The request's private scratch directory (created on first call). */
  dir: () => string;
  deadline: Deadline;
  /** What the query read of its datasets (pruning), when it read any. */
  scan?: ScanFacts;
}
