/**
 * The single place where errors become HTTP responses (docs/api.md "Errors"): a JSON envelope
 * {"error":{"code","message",...details}}, never a stack trace, internal SQL or a credential.
 */
import { LakehouseError, errorMessage } from '../errors.js';
import { redact, redactValue } from '../redact.js';
import { log } from '../log.js';

export interface ErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

export function errorResponse(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof LakehouseError) {
    const message = e.expose ? redact(e.message) : 'An internal error occurred.';
    if (e.status >= 500) log.error('request failed', { err: e, code: e.code });
    return {
      status: e.status,
      body: { error: { ...(redactValue(e.details) ?? {}), code: e.code, message } },
    };
  }
  log.error('unhandled error', { err: e, detail: errorMessage(e) });
  return { status: 500, body: { error: { code: 'internal', message: 'An internal error occurred.' } } };
}
