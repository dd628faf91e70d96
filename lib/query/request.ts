/** POST /sql request body → SqlRequest (validated), and the Accept header → result format. */
import type { DuckDBValue } from '@duckdb/node-api';
import { config } from '../config.js';
import { badRequest } from '../errors.js';

export type Format = 'json' | 'csv' | 'ndjson' | 'arrow';

export interface SqlRequest {
  sql: string;
  params: DuckDBValue[] | Record<string, DuckDBValue> | undefined;
  limit: number;
  format: Format;
}

const MAX_SQL_CHARS = 100_000;
const MAX_LIMIT = 100_000_000;

/** Media type of each result format (responses and spilled result objects). */
export const MEDIA_TYPES: Record<Format, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
  arrow: 'application/vnd.apache.arrow.stream',
};

export function formatFromAccept(accept: string | undefined): Format | undefined {
  if (!accept) return undefined;
  const a = accept.toLowerCase();
  if (a.includes('application/vnd.apache.arrow.stream') || a.includes('application/vnd.apache.arrow')) return 'arrow';
  if (a.includes('application/x-ndjson') || a.includes('application/ndjson')) return 'ndjson';
  if (a.includes('text/csv')) return 'csv';
  return undefined;
}

function paramValue(v: unknown, where: string): DuckDBValue {
  if (v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw badRequest('invalid_params', `${where} must be a finite number.`);
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  throw badRequest('invalid_params', `${where} must be a string, number, boolean or null.`);
}

export function parseSqlRequest(body: unknown, accept?: string): SqlRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('invalid_request', 'The request body must be a JSON object with "sql".');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.sql !== 'string' || b.sql.trim().length === 0) throw badRequest('invalid_request', '"sql" must be a non-empty string.');
  if (b.sql.length > MAX_SQL_CHARS) throw badRequest('invalid_request', `"sql" is longer than ${MAX_SQL_CHARS} characters.`);
  if (b.sql.includes('\0')) throw badRequest('invalid_request', '"sql" contains a NUL character.');
  let params: SqlRequest['params'];
  if (Array.isArray(b.params)) {
    if (b.params.length > 1000) throw badRequest('invalid_params', 'At most 1000 parameters.');
    params = b.params.map((v, i) => paramValue(v, `params[${i}]`));
  } else if (b.params && typeof b.params === 'object') {
    params = {};
    for (const [k, v] of Object.entries(b.params)) params[k] = paramValue(v, `params.${k}`);
  } else if (b.params !== undefined && b.params !== null) {
    throw badRequest('invalid_params', '"params" must be an array or an object.');
  }
  let limit = config().sqlMaxRows;
  if (b.limit !== undefined && b.limit !== null) {
    if (typeof b.limit !== 'number' || !Number.isSafeInteger(b.limit) || b.limit < 0 || b.limit > MAX_LIMIT) {
      throw badRequest('invalid_request', `"limit" must be an integer from 0 to ${MAX_LIMIT}.`);
    }
    limit = b.limit;
  }
  let format: Format = formatFromAccept(accept) ?? 'json';
  if (b.format !== undefined && b.format !== null) {
    if (b.format !== 'json' && b.format !== 'csv' && b.format !== 'ndjson' && b.format !== 'arrow') {
      throw badRequest('invalid_request', '"format" must be one of json, csv, ndjson, arrow.');
    }
    format = b.format;
  }
  return { sql: b.sql, params, limit, format };
}
