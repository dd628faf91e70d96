/** POST /uploads: validate, create the pending status record, return a presigned PUT. */
import { v7 as uuidv7 } from 'uuid';
import { badRequest, tooLarge } from '../errors.js';
import { normalizeName } from '../names.js';
import { config } from '../config.js';
import { keys, type UploadExt } from '../storage/keys.js';
import { presignPut } from '../storage/objects.js';
import { parseMode, parseSchemaChange, type SchemaChange } from '../catalog/register.js';
import { writeStatus, type BadRows } from './status.js';
import { newUploadRecord } from './record.js';
import { parseCsvHints } from './hints.js';
import type { CsvHints } from './dialect.js';

function parseBadRows(v: unknown): BadRows {
  if (v === undefined || v === null) return 'fail';
  if (v === 'fail' || v === 'quarantine') return v;
  throw badRequest('invalid_bad_rows', 'bad_rows must be "fail" or "quarantine".');
}

/** The stored extension: the filename only hints the format (.tsv, .txt, .gz). */
function uploadExt(filename: unknown): UploadExt {
  if (filename === undefined || filename === null) return 'csv';
  if (typeof filename !== 'string' || filename.length > 1024) throw badRequest('invalid_filename', 'filename must be a string.');
  const f = filename.toLowerCase();
  const gz = f.endsWith('.gz') || f.endsWith('.gzip');
  const base = gz ? f.replace(/\.(gz|gzip)$/, '') : f;
  const kind = base.endsWith('.tsv') || base.endsWith('.tab') ? 'tsv' : base.endsWith('.txt') ? 'txt' : 'csv';
  return (gz ? `${kind}.gz` : kind) as UploadExt;
}

export interface PresignResult {
  upload_id: string;
  name: string;
  mode: string;
  bad_rows: BadRows;
  csv?: CsvHints;
  schema_change?: SchemaChange;
  key: string;
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expires_at: string;
  status_url: string;
}

export async function createUpload(body: unknown, baseUrl?: string): Promise<PresignResult> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('invalid_request', 'The request body must be a JSON object with at least "name".');
  }
  const b = body as Record<string, unknown>;
  const name = normalizeName(b.name);
  const mode = parseMode(b.mode);
  const badRows = parseBadRows(b.bad_rows);
  const csv = parseCsvHints(b.csv);
  const schemaChange = parseSchemaChange(b.schema_change, mode);
  const cfg = config();
  let size: number | undefined;
  if (b.size !== undefined && b.size !== null) {
    if (typeof b.size !== 'number' || !Number.isSafeInteger(b.size) || b.size < 0) {
      throw badRequest('invalid_size', 'size must be a non-negative integer number of bytes.');
    }
    if (b.size > cfg.maxUploadBytes) {
      throw tooLarge('too_large', `The upload is ${b.size} bytes; the limit is ${cfg.maxUploadBytes} bytes.`, {
        limit_bytes: cfg.maxUploadBytes,
        size: b.size,
      });
    }
    size = b.size;
  }
  const ext = uploadExt(b.filename);
  const uploadId = uuidv7();
  const key = keys.upload(name, uploadId, ext);
  const now = new Date();
  const rec = newUploadRecord({
    upload_id: uploadId,
    name,
    key,
    source: 'presign',
    mode,
    bad_rows: badRows,
    csv,
    schema_change: schemaChange,
    filename: typeof b.filename === 'string' ? b.filename : null,
    size: size ?? null,
    now,
  });
  await writeStatus(rec);
  const url = await presignPut(key, { size, expiresIn: cfg.uploadUrlTtlSeconds });
  return {
    upload_id: uploadId,
    name,
    mode,
    bad_rows: badRows,
    ...(csv ? { csv } : {}),
    ...(schemaChange !== 'fail' ? { schema_change: schemaChange } : {}),
    key,
    url,
    method: 'PUT',
    headers: size !== undefined ? { 'Content-Length': String(size) } : {},
    expires_at: new Date(now.getTime() + cfg.uploadUrlTtlSeconds * 1000).toISOString(),
    status_url: `${baseUrl ?? ''}/uploads/${uploadId}`,
  };
}
