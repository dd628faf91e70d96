/**
 * Credential redaction. Every log line and every error body passes through redact(): known
 * secret values (taken from the environment at call time) and credential-shaped substrings
 * (presigned-URL signatures, bearer tokens, AWS secret keys) are replaced by [REDACTED].
 */
import { envValues } from './config.js';
const SECRET_ENV = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'LAKEHOUSE_API_TOKEN',
  'AWS_SECURITY_TOKEN',
];

const PATTERNS: Array<[RegExp, string]> = [
  // presigned URL credentials and signatures
  [/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"']+/gi, '$1[REDACTED]'],
  [/(AWSAccessKeyId=|Signature=)[^&\s"']+/g, '$1[REDACTED]'],
  // Authorization headers
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[REDACTED]'],
  [/(AWS4-HMAC-SHA256\s+Credential=)[^,\s]+/gi, '$1[REDACTED]'],
  [/(Signature=)[0-9a-f]{16,}/gi, '$1[REDACTED]'],
  // key=value shapes for secrets
  [/((?:secret(?:_access)?_key|session_token|password|api_token)["']?\s*[:=]\s*["']?)[^"'\s,}]+/gi, '$1[REDACTED]'],
  // AWS access key ids
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[REDACTED]'],
];

/**
 * Local filesystem paths (temp files of an ingest, the query cache, the checkout) are internal:
 * they are replaced wherever they appear in a log line or an error body.
 */
const LOCAL_PATH = /(?<![A-Za-z0-9_.:/~-])\/(?:tmp|var|home|root|work|private|Users|opt|mnt|srv|run|usr|etc|proc|dev)(?:\/[^\s'"`()[\]{},;]*)?/g;

export function redactPaths(text: string): string {
  return text.replace(LOCAL_PATH, '<local path>');
}

function secretValues(): string[] {
  // very short values (e.g. a local 'S3RVER' key is 6 chars) are still redacted; empty ones are not
  const out = envValues(SECRET_ENV).filter((v) => v.length >= 4);
  // longest first so a value containing another is replaced whole
  return out.sort((a, b) => b.length - a.length);
}

export function redact(text: string): string {
  let s = text;
  for (const v of secretValues()) {
    if (s.includes(v)) s = s.split(v).join('[REDACTED]');
  }
  for (const [re, rep] of PATTERNS) s = s.replace(re, rep);
  return redactPaths(s);
}

/** Deep-redacts strings inside a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as unknown as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (/^(authorization|x-amz-security-token|cookie)$/i.test(k)) out[k] = '[REDACTED]';
      else out[k] = redactValue(v);
    }
    return out as T;
  }
  return value;
}
