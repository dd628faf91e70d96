/**
 * The one mapper from whatever an ingest threw to the `error` of its status record. Domain errors
 * (a ragged row, an empty file, a schema conflict) keep their code, message and safe details; any
 * other error — DuckDB's, the SDK's, the file system's — becomes `internal` with a fixed message,
 * so that no local path, temp file name, bucket-internal key or engine text reaches the status.
 * The full error goes to the log, where redaction removes paths and credentials.
 */
import { LakehouseError } from '../errors.js';
import { redactPaths } from '../redact.js';
import type { UploadError } from './status.js';

export function uploadError(e: unknown): UploadError {
  if (e instanceof LakehouseError && e.expose && e.code !== 'internal') {
    const details = Object.fromEntries(Object.entries(e.details ?? {}).map(([k, v]) => [k, typeof v === 'string' ? redactPaths(v) : v]));
    return { ...details, code: e.code, message: redactPaths(e.message) };
  }
  return {
    code: 'internal',
    message: 'The ingest failed unexpectedly; nothing was ingested and the upload is kept. The cause is in the ingest log.',
  };
}
