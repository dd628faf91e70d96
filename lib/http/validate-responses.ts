/**
 * middy middleware: with LAKEHOUSE_VALIDATE_RESPONSES=1 (set for the test stacks by
 * localstack/stack.ts), every response — success or error — is checked against openapi.yaml before
 * it leaves (lib/http/response-check.ts). A mismatch is replaced by `500 response_invalid` naming
 * the problems (and logged, as every 5xx is), so a client test sees the drift instead of a response
 * the document does not describe. Off, it costs nothing: the checker (ajv, the document) is loaded on first use.
 */
import type middy from '@middy/core';
import type { HttpEvent, HttpResult } from './types.js';
import { config } from '../config.js';
import { LakehouseError } from '../errors.js';

type Request = middy.Request<HttpEvent, HttpResult, Error>;

/** Turns the response into 500 response_invalid when it does not match the document. */
async function check(request: Request, toError: (e: unknown, requestId: string) => HttpResult): Promise<void> {
  const res = request.response;
  if (!res || !config().validateResponses) return;
  const event = request.event ?? {};
  const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  const requestId = res.headers?.['x-request-id'] ?? event.requestContext?.requestId ?? 'unknown';
  let problems: string[];
  let where = `${method} ${path}`;
  try {
    const { checkResponse } = await import('./response-check.js');
    const r = checkResponse({
      method,
      path,
      status: res.statusCode,
      headers: res.headers ?? {},
      body: res.isBase64Encoded ? Buffer.from(res.body ?? '', 'base64') : (res.body ?? ''),
    });
    problems = r.problems;
    where = r.where;
  } catch (e) {
    problems = [`the response could not be checked: ${e instanceof Error ? e.message : String(e)}`];
  }
  if (problems.length === 0) return;
  // logged once, as every 5xx is, by the error mapping (lib/http/errors.ts), problems included
  request.response = toError(
    new LakehouseError('response_invalid', `The response (${where}) does not match the API document: ${problems.join('; ')}`, { problems }),
    requestId,
  );
}

/**
 * The middleware. `toError` renders the replacement error response (lib/http/middleware.ts's
 * errorResult), so this file stays one concern. Use it first: middy runs `after`/`onError` in reverse
 * order, so it sees the response the other middlewares produced, error responses included.
 */
export function validateResponses(toError: (e: unknown, requestId: string) => HttpResult): middy.MiddlewareObj<HttpEvent, HttpResult, Error> {
  return {
    after: (request) => check(request, toError),
    onError: (request) => check(request, toError),
  };
}
