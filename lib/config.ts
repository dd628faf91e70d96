/**
 * Runtime configuration, read from the environment on every call (cheap) so tests and
 * long-lived processes see changes. Names and defaults are the contract in docs/api.md.
 */
import os from 'node:os';
import path from 'node:path';

/** The release (package.json's version; test/http.test.ts holds them equal). */
export const VERSION = '0.5.3';
export const SERVICE = 'lakehouse';

function str(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(name: string, dflt: number, min = 0): number {
  const raw = str(name);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min) {
    throw new Error(`Environment variable ${name} must be an integer >= ${min}`);
  }
  return n;
}

/**
 * Settings the logger and redaction need: read without config()'s validation, so that logging an
 * error about a bad setting can never throw in turn.
 */
export const logSettings = {
  level: (): string => (str('LAKEHOUSE_LOG_LEVEL') ?? 'info').toLowerCase(),
  stacks: (): boolean => str('LAKEHOUSE_LOG_STACKS') === '1',
};

/** The values of the named variables that are set (secrets to redact from every log line and body). */
export function envValues(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const v = process.env[n];
    if (v) out.push(v);
  }
  return out;
}

/** The Lambda's memory in MB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), when running on Lambda. */
export function lambdaMemoryMb(): number | undefined {
  const n = Number(str('AWS_LAMBDA_FUNCTION_MEMORY_SIZE'));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export interface Config {
  bucket: string;
  region: string;
  s3Endpoint: string | undefined;
  apiToken: string | undefined;
  maxBodyBytes: number;
  maxUploadBytes: number;
  uploadUrlTtlSeconds: number;
  resultUrlTtlSeconds: number;
  sqlMaxRows: number;
  sqlMaxInlineBytes: number;
  sqlTimeoutMs: number;
  cacheDir: string;
  cacheMaxBytes: number;
  tmpDir: string;
  catalogTtlMs: number;
  ingestLeaseMs: number;
  gcGraceMs: number;
  duckdbMemoryLimit: string | undefined;
  duckdbThreads: number | undefined;
  /** Check every HTTP response against openapi.yaml; a mismatch becomes 500 response_invalid (test stacks). */
  validateResponses: boolean;
  /**
   * The API's public base URL (LAKEHOUSE_PUBLIC_URL, e.g. https://api.example.com), used to build
   * links such as `status_url`. Never taken from request headers.
   */
  publicUrl: string | undefined;
  /** Running under `sls invoke local` (IS_LOCAL) or serverless-offline (IS_OFFLINE). */
  local: boolean;
  /** The local stack's HTTP API port (LAKEHOUSE_HTTP_PORT, serverless.yml), for links on loopback. */
  localHttpPort: number;
  /** The local stack's S3 port (LAKEHOUSE_S3_PORT), the default endpoint when `local`. */
  localS3Port: number;
  /** LAKEHOUSE_CONDITIONAL_WRITES=on|off|auto (auto: probe the store once). */
  conditionalWrites: 'on' | 'off' | 'auto';
  /** Ingest attempts (re-drives included) before a crashing upload is failed with `ingest_crashed`. */
  ingestMaxAttempts: number;
  /**
   * What overlaps the download of an upload (LAKEHOUSE_INGEST_OVERLAP; ADR 0014): `thread` (the
   * default) — the scan, in a worker thread (uploads of 4 MiB or more), DuckDB once the file is
   * complete; `scan` — the same on the main thread; `pipe` — the scan, and DuckDB through a named
   * pipe; `off` — nothing (download, then the scan beside DuckDB).
   */
  ingestOverlap: 'thread' | 'pipe' | 'scan' | 'off';
  /** The freshness probe's existence check without the SDK's middleware (LAKEHOUSE_FAST_EXISTS=on|off, default on; lib/storage/exists.ts). */
  fastExists: boolean;
  /** Identifies the credentials in use (the S3 client is rebuilt when they change). */
  credentialsId: string;
  /** Publish every committed version as an Apache Iceberg table (LAKEHOUSE_ICEBERG=on|off, default on). */
  icebergPublish: boolean;
  /** Also register each table in this AWS Glue database (LAKEHOUSE_GLUE_DATABASE; unset: no Glue). */
  glueDatabase: string | undefined;
  /**
   * The role the Iceberg REST catalog assumes, with a session policy scoped to one table's prefix,
   * to vend read-only S3 credentials (LAKEHOUSE_ICEBERG_READ_ROLE_ARN; unset: no credentials vended).
   */
  icebergReadRoleArn: string | undefined;
}

function mode(name: string): 'on' | 'off' | 'auto' {
  const v = (str(name) ?? 'auto').toLowerCase();
  if (v !== 'on' && v !== 'off' && v !== 'auto') throw new Error(`Environment variable ${name} must be on, off or auto`);
  return v;
}

/**
 * An IAM role ARN, or undefined. serverless.yml builds this one with Fn::Sub, which
 * serverless-offline leaves unrendered (`arn:aws:iam::${AWS::AccountId}:…`): that means none.
 */
function roleArn(name: string): string | undefined {
  const v = str(name);
  return v !== undefined && /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(v) ? v : undefined;
}

function oneOf<T extends string>(name: string, values: readonly T[], dflt: T): T {
  const v = str(name)?.toLowerCase();
  if (v === undefined) return dflt;
  if (!(values as readonly string[]).includes(v)) throw new Error(`Environment variable ${name} must be one of ${values.join(', ')}`);
  return v as T;
}

function onOff(name: string, dflt: boolean): boolean {
  const v = str(name)?.toLowerCase();
  if (v === undefined) return dflt;
  if (v === 'on' || v === '1' || v === 'true') return true;
  if (v === 'off' || v === '0' || v === 'false') return false;
  throw new Error(`Environment variable ${name} must be on or off`);
}

function baseUrl(name: string): string | undefined {
  const v = str(name);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`Environment variable ${name} must be an absolute http(s) URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`Environment variable ${name} must be an absolute http(s) URL`);
  return v.replace(/\/+$/, '');
}

export function config(): Config {
  const tmpDir = str('LAKEHOUSE_TMP_DIR') ?? path.join(os.tmpdir(), 'lakehouse');
  return {
    bucket: str('LAKEHOUSE_BUCKET') ?? 'lakehouse',
    region: str('AWS_REGION') ?? str('AWS_DEFAULT_REGION') ?? 'us-east-1',
    s3Endpoint: str('S3_ENDPOINT'),
    apiToken: str('LAKEHOUSE_API_TOKEN'),
    maxBodyBytes: int('LAKEHOUSE_MAX_BODY_BYTES', 1024 * 1024, 1),
    maxUploadBytes: int('LAKEHOUSE_MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1),
    uploadUrlTtlSeconds: int('LAKEHOUSE_UPLOAD_URL_TTL_SECONDS', 900, 1),
    resultUrlTtlSeconds: int('LAKEHOUSE_RESULT_URL_TTL_SECONDS', 3600, 1),
    sqlMaxRows: int('LAKEHOUSE_SQL_MAX_ROWS', 10_000, 1),
    sqlMaxInlineBytes: int('LAKEHOUSE_SQL_MAX_INLINE_BYTES', 5 * 1024 * 1024, 1024),
    sqlTimeoutMs: int('LAKEHOUSE_SQL_TIMEOUT_MS', 30_000, 1),
    cacheDir: str('LAKEHOUSE_CACHE_DIR') ?? path.join(tmpDir, 'cache'),
    cacheMaxBytes: int('LAKEHOUSE_CACHE_MAX_BYTES', 2 * 1024 ** 3, 1),
    tmpDir,
    catalogTtlMs: int('LAKEHOUSE_CATALOG_TTL_MS', 0, 0),
    ingestLeaseMs: int('LAKEHOUSE_INGEST_LEASE_MS', 16 * 60 * 1000, 1000),
    gcGraceMs: int('LAKEHOUSE_GC_GRACE_MS', 24 * 3600 * 1000, 0),
    duckdbMemoryLimit: str('LAKEHOUSE_DUCKDB_MEMORY_LIMIT'),
    duckdbThreads: str('LAKEHOUSE_DUCKDB_THREADS') ? int('LAKEHOUSE_DUCKDB_THREADS', 1, 1) : undefined,
    validateResponses: ['1', 'true'].includes(str('LAKEHOUSE_VALIDATE_RESPONSES')?.toLowerCase() ?? ''),
    publicUrl: baseUrl('LAKEHOUSE_PUBLIC_URL'),
    local: str('IS_LOCAL') === 'true' || str('IS_OFFLINE') === 'true',
    localHttpPort: int('LAKEHOUSE_HTTP_PORT', 3000, 1),
    localS3Port: int('LAKEHOUSE_S3_PORT', 4569, 1),
    conditionalWrites: mode('LAKEHOUSE_CONDITIONAL_WRITES'),
    ingestMaxAttempts: int('LAKEHOUSE_INGEST_MAX_ATTEMPTS', 3, 1),
    ingestOverlap: oneOf('LAKEHOUSE_INGEST_OVERLAP', ['thread', 'pipe', 'scan', 'off'] as const, 'thread'),
    fastExists: onOff('LAKEHOUSE_FAST_EXISTS', true),
    credentialsId: [str('AWS_ACCESS_KEY_ID') ?? '', str('AWS_PROFILE') ?? ''].join('|'),
    icebergPublish: onOff('LAKEHOUSE_ICEBERG', true),
    glueDatabase: str('LAKEHOUSE_GLUE_DATABASE'),
    icebergReadRoleArn: roleArn('LAKEHOUSE_ICEBERG_READ_ROLE_ARN'),
  };
}
