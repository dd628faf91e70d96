/**
 * The single place where errors become HTTP responses (docs/api.md "Errors"): a JSON envelope
 * {"error":{"code","message",...details}}, never a stack trace, internal SQL or a credential.
 */
import { LakehouseError, errorMessage } from '../errors.js';
import { redact, redactValue } from '../redact.js';
import { log } from '../log.js';
import { statusOf } from './status.js';

export interface ErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

export function errorResponse(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof LakehouseError) {
    const message = e.expose ? redact(e.message) : 'An internal error occurred.';
    const status = statusOf(e.code);
    if (status >= 500) log.error('request failed', { err: e, code: e.code });
    return {
      status,
      body: { error: { ...(redactValue(e.details) ?? {}), code: e.code, message } },
    };
  }
  log.error('unhandled error', { err: e, detail: errorMessage(e) });
  return { status: 500, body: { error: { code: 'internal', message: 'An internal error occurred.' } } };
}

/** Iceberg REST error types (the `type` of its ErrorModel) by our code, then by status. */
const ICEBERG_TYPE_BY_CODE: Readonly<Record<string, string>> = {
  no_such_namespace: 'NoSuchNamespaceException',
  no_such_table: 'NoSuchTableException',
};
const ICEBERG_TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequestException',
  401: 'NotAuthorizedException',
  403: 'ForbiddenException',
  404: 'NotFoundException',
  413: 'BadRequestException',
  503: 'ServiceUnavailableException',
};

export interface IcebergErrorBody {
  error: { message: string; type: string; code: number };
}

/**
 * The Iceberg REST catalog's error shape (its OpenAPI `IcebergErrorResponse`): the same status and
 * message as errorResponse, with an exception type and the status as `code`.
 */
export function icebergErrorResponse(e: unknown): { status: number; body: IcebergErrorBody } {
  const { status, body } = errorResponse(e);
  const type = ICEBERG_TYPE_BY_CODE[body.error.code] ?? ICEBERG_TYPE_BY_STATUS[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequestException');
  return { status, body: { error: { message: body.error.message, type, code: status } } };
}

/**
 * A failure of a direct (non-HTTP) invocation — a schedule, `sls invoke`, the Lambda API. It is
 * thrown, never returned: the Lambda runtime reports a thrown error as a failed invocation
 * (`errorType`, `errorMessage`), so asynchronous invocations are retried and alarms fire. The
 * message carries the envelope's code and message; `code`, `status` and `body` the rest.
 */
export class InvocationError extends Error {
  readonly code: string;
  readonly status: number;
  readonly body: ErrorBody;
  constructor(status: number, body: ErrorBody) {
    super(`${body.error.code}: ${body.error.message}`);
    this.name = 'LakehouseInvocationError';
    this.code = body.error.code;
    this.status = status;
    this.body = body;
  }
}

export function invocationError(e: unknown): InvocationError {
  const { status, body } = errorResponse(e);
  return new InvocationError(status, body);
}
