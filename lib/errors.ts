/**
 * Typed errors of the domain. Each carries the docs/api.md error code and optional details that
 * are safe to show to the client — no HTTP status: lib/http/status.ts maps codes to statuses, and
 * lib/http/errors.ts makes the response. The helpers below only name the kind of error.
 */
export type Details = Record<string, unknown>;

export class LakehouseError extends Error {
  readonly code: string;
  readonly details: Details | undefined;
  /** Whether the message may be shown to the client as is (domain errors: yes). */
  readonly expose: boolean;

  constructor(code: string, message: string, details?: Details, expose = true) {
    super(message);
    this.name = 'LakehouseError';
    this.code = code;
    this.details = details;
    this.expose = expose;
  }
}

export const badRequest = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, details);
export const unauthorized = (message = 'A valid API token is required (Authorization: Bearer <token>).') =>
  new LakehouseError('unauthorized', message);
export const forbidden = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, details);
export const notFound = (message: string, details?: Details) =>
  new LakehouseError('not_found', message, details);
export const conflict = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, details);
export const tooLarge = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, details);
export const timeout = (message: string, details?: Details) =>
  new LakehouseError('timeout', message, details);
export const internal = (message = 'An internal error occurred.', details?: Details) =>
  new LakehouseError('internal', message, details);
export const unavailable = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, details);

export function isLakehouseError(e: unknown): e is LakehouseError {
  return e instanceof LakehouseError;
}

/** The error's message, never throwing. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'unknown error';
  }
}
