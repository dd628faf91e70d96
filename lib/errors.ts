/**
 * Typed errors of the domain. Each carries the docs/api.md error code, the HTTP status it maps to
 * (mapped to a response in exactly one place: lib/http/errors.ts) and optional details that
 * are safe to show to the client.
 */
export type Details = Record<string, unknown>;

export class LakehouseError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Details | undefined;
  /** Whether the message may be shown to the client as is (domain errors: yes). */
  readonly expose: boolean;

  constructor(code: string, message: string, status: number, details?: Details, expose = true) {
    super(message);
    this.name = 'LakehouseError';
    this.code = code;
    this.status = status;
    this.details = details;
    this.expose = expose;
  }
}

export const badRequest = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, 400, details);
export const unauthorized = (message = 'A valid API token is required (Authorization: Bearer <token>).') =>
  new LakehouseError('unauthorized', message, 401);
export const forbidden = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, 403, details);
export const notFound = (message: string, details?: Details) =>
  new LakehouseError('not_found', message, 404, details);
export const conflict = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, 409, details);
export const tooLarge = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, 413, details);
export const timeout = (message: string, details?: Details) =>
  new LakehouseError('timeout', message, 504, details);
export const internal = (message = 'An internal error occurred.', details?: Details) =>
  new LakehouseError('internal', message, 500, details);
export const unavailable = (code: string, message: string, details?: Details) =>
  new LakehouseError(code, message, 503, details);

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
