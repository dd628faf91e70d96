/**
 * The one table from error codes to HTTP statuses. lib/ingest, lib/query, lib/catalog and
 * lib/storage throw typed errors with a code (lib/errors.ts) and choose no status; this table does,
 * for every code an HTTP response can carry (docs/api.md "Error codes", openapi.yaml). A code that
 * is missing here is a 500 (and test/http.test.ts checks the table covers the codes thrown in lib/).
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // 400: the request is wrong
  invalid_json: 400,
  invalid_request: 400,
  invalid_name: 400,
  invalid_mode: 400,
  invalid_size: 400,
  invalid_bad_rows: 400,
  invalid_filename: 400,
  invalid_csv_options: 400,
  invalid_schema_change: 400,
  invalid_schema: 400,
  invalid_key: 400,
  invalid_version: 400,
  invalid_limit: 400,
  invalid_wait: 400,
  invalid_cursor: 400,
  invalid_path: 400,
  invalid_params: 400,
  fingerprint_mismatch: 400,
  object_not_found: 400,
  object_size_mismatch: 400,
  too_many_objects: 400,
  sql_error: 400,
  // 401, 403, 404, 409, 413
  unauthorized: 401,
  forbidden_statement: 403,
  not_found: 404,
  no_such_namespace: 404,
  no_such_table: 404,
  schema_conflict: 409,
  compaction_conflict: 409,
  // ingest only (a status record's error), never an HTTP answer today: the object changed while read
  object_changed: 409,
  body_too_large: 413,
  too_large: 413,
  // the server
  internal: 500,
  corrupt_manifest: 500,
  response_invalid: 500,
  storage_error: 503,
  catalog_unstable: 503,
  commit_contention: 503,
  status_contention: 503,
  lock_timeout: 503,
  out_of_memory: 503,
  timeout: 504,
  cache_too_small: 507,
};

export function statusOf(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}
