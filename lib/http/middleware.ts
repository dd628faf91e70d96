/**
 * middy plumbing shared by every HTTP function: request ids in log context, optional bearer
 * auth, a capped JSON body parser, the error → response mapping (lib/http/errors.ts), and — for
 * test stacks — the check of every response against openapi.yaml (lib/http/validate-responses.ts).
 */
import crypto from 'node:crypto';
import middy from '@middy/core';
import type { Context as LambdaContext } from 'aws-lambda';
import type { HttpEvent, HttpRequest, HttpResponse, HttpResult } from './types.js';
import { errorResponse, icebergErrorResponse } from './errors.js';
import { validateResponses } from './validate-responses.js';
import { badRequest, tooLarge, unauthorized } from '../errors.js';
import { config } from '../config.js';
import { log, withLogContext } from '../log.js';

export interface HttpOptions {
  /** Require the bearer token when LAKEHOUSE_API_TOKEN is set (default true). */
  auth?: boolean;
  /** Parse a JSON body (default false: the body is ignored). */
  jsonBody?: boolean;
  /**
   * The error body: ours (`{"error":{"code","message",…}}`, default) or the Iceberg REST catalog's
   * (`{"error":{"message","type","code"}}`, for /iceberg/v1/… — lib/http/errors.ts).
   */
  errors?: 'lakehouse' | 'iceberg';
}

// middy's types require the Lambda Context; this adapter is the only lib/ file that sees it.
type Ctx = LambdaContext;

function lowerHeaders(h: HttpEvent['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

function compact(o: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export function checkAuth(headers: Record<string, string>, token = config().apiToken): void {
  if (!token) return;
  const h = headers['authorization'] ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  if (!m || !safeEqual(m[1]!.trim(), token)) throw unauthorized();
}

export function parseJsonBody(event: HttpEvent, headers: Record<string, string>, cap = config().maxBodyBytes): unknown {
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) {
    throw tooLarge('body_too_large', `The request body exceeds the ${cap}-byte limit.`, { limit_bytes: cap });
  }
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const buf = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (buf.length > cap) {
    throw tooLarge('body_too_large', `The request body exceeds the ${cap}-byte limit.`, { limit_bytes: cap });
  }
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw badRequest('invalid_json', 'The request body is not valid JSON.');
  }
}

export function toResult(res: HttpResponse, requestId: string): HttpResult {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...(res.headers ?? {}) };
  if (res.raw) {
    headers['content-type'] = res.raw.contentType;
    if (Buffer.isBuffer(res.raw.body)) {
      return { statusCode: res.status, headers, body: res.raw.body.toString('base64'), isBase64Encoded: true };
    }
    return { statusCode: res.status, headers, body: res.raw.body, isBase64Encoded: false };
  }
  headers['content-type'] = 'application/json';
  const body = res.json === undefined ? '' : JSON.stringify(res.json);
  return { statusCode: res.status, headers, body, isBase64Encoded: false };
}

export function errorResult(e: unknown, requestId: string): HttpResult {
  const { status, body } = errorResponse(e);
  return toResult({ status, json: body }, requestId);
}

export function icebergErrorResult(e: unknown, requestId: string): HttpResult {
  const { status, body } = icebergErrorResponse(e);
  return toResult({ status, json: body }, requestId);
}

/** A path parameter, percent-decoded; malformed encoding (`%zz`, a cut UTF-8 sequence) → 400 invalid_path. */
export function pathParam(req: HttpRequest, name: string): string | undefined {
  const raw = req.params[name];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest('invalid_path', `The path segment for {${name}} is not valid percent-encoding.`);
  }
}

/**
 * The API's public base URL, for links such as status_url: LAKEHOUSE_PUBLIC_URL, else the local
 * stack's own address (serverless-offline, or a loopback domain), else https:// + the domain name
 * API Gateway received the request on. Never a client-supplied header (Host, X-Forwarded-Host).
 */
export function publicBaseUrl(req: HttpRequest): string | undefined {
  const c = config();
  if (c.publicUrl) return c.publicUrl;
  const domain = req.domainName?.toLowerCase();
  const loopback = domain === '127.0.0.1' || domain === 'localhost' || domain === '[::1]';
  if (c.local || loopback) return `http://${loopback ? domain : '127.0.0.1'}:${c.localHttpPort}`;
  if (domain && /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) return `https://${domain}`;
  return undefined;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse>;

/**
 * Wraps a domain handler into a Lambda handler for HTTP API events. All shared concerns run as
 * middy middlewares; the domain function only sees an HttpRequest.
 */
/** Whether a Lambda event came through API Gateway (HTTP API v2) rather than a direct invocation. */
export function isHttpEvent(e: unknown): boolean {
  const ev = e as { requestContext?: { http?: unknown }; rawPath?: unknown };
  return !!ev && (ev.requestContext?.http !== undefined || typeof ev.rawPath === 'string');
}

export function httpHandler(fn: Handler, opts: HttpOptions = {}) {
  const auth = opts.auth ?? true;
  const toError = opts.errors === 'iceberg' ? icebergErrorResult : errorResult;
  const mw: middy.MiddlewareObj<HttpEvent, HttpResult, Error, Ctx & { req?: HttpRequest }> = {
    before: (request) => {
      const event = request.event ?? {};
      const headers = lowerHeaders(event.headers);
      const requestId = event.requestContext?.requestId ?? request.context?.awsRequestId ?? crypto.randomUUID();
      const req: HttpRequest = {
        method: (event.requestContext?.http?.method ?? 'GET').toUpperCase(),
        path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
        headers,
        query: compact(event.queryStringParameters),
        params: compact(event.pathParameters),
        body: undefined,
        requestId,
        domainName: event.requestContext?.domainName,
      };
      const ctx = request.context as Partial<Ctx> | undefined;
      if (typeof ctx?.getRemainingTimeInMillis === 'function') req.remainingMs = () => ctx.getRemainingTimeInMillis!();
      (request.context as Ctx & { req?: HttpRequest }).req = req;
      // one read of the environment per request (config() reads every variable: ~20–30 µs each time)
      const c = config();
      if (auth) checkAuth(headers, c.apiToken);
      if (opts.jsonBody) req.body = parseJsonBody(event, headers, c.maxBodyBytes);
    },
    onError: (request) => {
      const req = (request.context as Ctx & { req?: HttpRequest })?.req;
      const id = req?.requestId ?? crypto.randomUUID();
      request.response = withLogContext({ request_id: id, path: req?.path }, () => toError(request.error, id));
    },
  };
  return middy<HttpEvent, HttpResult, Error, Ctx & { req?: HttpRequest }>()
    .use(validateResponses(toError))
    .use(mw)
    .handler(async (_event, context) => {
      const req = context.req!;
      return withLogContext({ request_id: req.requestId }, async () => {
        const started = Date.now();
        const res = await fn(req);
        log.info('request', { method: req.method, path: req.path, status: res.status, ms: Date.now() - started });
        return toResult(res, req.requestId);
      });
    });
}
