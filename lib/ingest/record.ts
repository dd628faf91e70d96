/**
 * A new upload status record — the one builder for both ways an upload starts: a presigned PUT
 * (POST /uploads) and a direct put on uploads/ (ingest finds no record and creates it).
 */
import type { Mode, SchemaChange } from '../catalog/register.js';
import type { CsvHints } from './dialect.js';
import type { BadRows, UploadRecord } from './status.js';

export interface NewUpload {
  upload_id: string;
  name: string;
  key: string;
  source: UploadRecord['source'];
  mode?: Mode;
  bad_rows?: BadRows;
  filename?: string | null;
  size?: number | null;
  csv?: CsvHints;
  schema_change?: SchemaChange;
  now?: Date;
}

export function newUploadRecord(u: NewUpload): UploadRecord {
  const now = (u.now ?? new Date()).toISOString();
  return {
    upload_id: u.upload_id,
    name: u.name,
    mode: u.mode ?? 'replace',
    bad_rows: u.bad_rows ?? 'fail',
    ...(u.csv ? { csv: u.csv } : {}),
    ...(u.schema_change && u.schema_change !== 'fail' ? { schema_change: u.schema_change } : {}),
    key: u.key,
    filename: u.filename ?? null,
    size: u.size ?? null,
    source: u.source,
    state: 'pending',
    created_at: now,
    updated_at: now,
    attempts: 0,
  };
}
