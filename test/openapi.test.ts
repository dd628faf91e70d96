/**
 * openapi.yaml: a valid OpenAPI 3.1 document (checked by a real validator library), in step with
 * the routes serverless.yml declares, served as-is at GET /openapi.json (also from a Lambda bundle
 * built the way serverless-esbuild builds it), and a response check that catches drift — in the
 * tests (test/helpers/openapi.ts, behind callHttp) and in the server (LAKEHOUSE_VALIDATE_RESPONSES).
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Validator } from '@seriousme/openapi-schema-validator';
import { handler as openapi } from '../functions/openapi.js';
import { withBundledHandler } from './helpers/bundle.js';
import { handler as health } from '../functions/health.js';
import { callHttp, httpEvent, lambdaContext } from './helpers/lambda.js';
import { assertMatchesOpenApi } from './helpers/openapi.js';
import { checkDocument, checkResponse } from '../lib/http/response-check.js';
import { findOperation } from '../lib/http/openapi.js';
import { httpHandler } from '../lib/http/middleware.js';
import { VERSION } from '../lib/config.js';
import { scopedEnv } from './helpers/env.js';

const file = path.resolve('openapi.yaml');
const text = fs.readFileSync(file, 'utf8');
const doc = parse(text);

const setEnv = scopedEnv();

describe('the document', () => {
  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const v = new Validator();
    const r = await v.validate(text);
    expect(r.errors ?? []).toEqual([]);
    expect(r.valid).toBe(true);
    expect(v.version).toBe('3.1');
  });

  it('every $ref resolves and every schema compiles in strict mode (no typo keywords)', () => {
    expect(checkDocument()).toEqual([]);
  });

  it('carries the service version', () => {
    expect(doc.info.version).toBe(VERSION);
  });

  it('describes exactly the HTTP routes serverless.yml declares', () => {
    const sls = parse(fs.readFileSync('serverless.yml', 'utf8'));
    const routes: string[] = [];
    for (const fn of Object.values<{ events?: Array<{ httpApi?: string }> }>(sls.functions)) {
      for (const e of fn.events ?? []) if (typeof e.httpApi === 'string' && e.httpApi !== '*') routes.push(e.httpApi);
    }
    const documented = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.sort()).toEqual(routes.sort());
  });

  it('every operation declares its errors with the envelope, and 401 unless public', () => {
    for (const [p, item] of Object.entries<Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>(doc.paths)) {
      for (const [m, op] of Object.entries(item)) {
        const statuses = Object.keys(op.responses);
        expect(statuses, `${m} ${p}`).toContain('500');
        const open = Array.isArray(op.security) && op.security.length === 0;
        expect(statuses.includes('401'), `${m} ${p} 401`).toBe(!open);
        if (op.responses['413'] !== undefined || ['post', 'put', 'patch'].includes(m)) {
          expect(statuses, `${m} ${p} (JSON body)`).toEqual(expect.arrayContaining(['400', '413']));
        }
      }
    }
  });
});

describe('GET /openapi.json', () => {
  it('returns the document as JSON, public even with a token set', async () => {
    setEnv('LAKEHOUSE_API_TOKEN', 'sekrit');
    const r = await callHttp(openapi, { method: 'GET', path: '/openapi.json' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toEqual(doc);
  });

  it('works from a bundle built as serverless-esbuild builds it, away from the checkout', async () => {
    const warnings = await withBundledHandler<typeof openapi>('openapi', async (bundled) => {
      const res = await bundled(httpEvent({ method: 'GET', path: '/openapi.json' }) as never, lambdaContext() as never);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual(doc);
    });
    expect(warnings).toEqual([]);
  });
});

describe('the response check', () => {
  const sample = (method: string, p: string, status: number, body: unknown, headers: Record<string, string> = {}) => ({
    method,
    path: p,
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': 'r1', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const ok = { status: 'ok', service: 'lakehouse', version: '0.1.0' };

  it('matches path templates, literal segments first', () => {
    expect(findOperation('GET', '/uploads/0190abcd')?.template).toBe('/uploads/{id}');
    expect(findOperation('get', '/catalog/manifests')?.template).toBe('/catalog/manifests');
    expect(findOperation('GET', '/catalog/manifests/sales')?.template).toBe('/catalog/manifests/{name}');
    expect(findOperation('DELETE', '/sql')).toBeUndefined();
    expect(findOperation('GET', '/uploads/')).toBeUndefined();
  });

  it('accepts a matching response', () => {
    expect(checkResponse(sample('GET', '/health', 200, ok)).problems).toEqual([]);
  });

  it('rejects an undeclared status, content type, a missing or extra field, a wrong error code', () => {
    expect(checkResponse(sample('GET', '/health', 201, ok)).problems.join()).toMatch(/status 201 is not declared/);
    expect(checkResponse(sample('GET', '/health', 200, ok, { 'content-type': 'text/plain' })).problems.join()).toMatch(/content-type text\/plain/);
    expect(checkResponse(sample('GET', '/health', 200, { status: 'ok', service: 'lakehouse' })).problems.join()).toMatch(/must have required property 'version'/);
    expect(checkResponse(sample('GET', '/health', 200, { ...ok, extra: 1 })).problems.join()).toMatch(/additional properties \("extra"\)/);
    const wrongCode = sample('GET', '/uploads/x', 404, { error: { code: 'gone', message: 'm' } });
    expect(checkResponse(wrongCode).problems.join()).toMatch(/body\/error\/code must be equal to constant/);
    expect(checkResponse(sample('GET', '/health', 200, ok, { 'x-request-id': '' })).problems.join()).toMatch(/header X-Request-Id/);
  });

  it('holds /sql text formats to their declared headers', () => {
    const headers = { 'content-type': 'text/csv; charset=utf-8', 'x-lakehouse-row-count': '1', 'x-lakehouse-truncated': 'false', 'x-lakehouse-query-id': 'q', 'x-lakehouse-elapsed-ms': '3' };
    expect(checkResponse(sample('POST', '/sql', 200, 'a\n1\n', headers)).problems).toEqual([]);
    expect(checkResponse(sample('POST', '/sql', 200, 'a\n1\n', { ...headers, 'x-lakehouse-truncated': 'maybe' })).problems.join()).toMatch(/X-Lakehouse-Truncated must be boolean/);
    const { 'x-lakehouse-row-count': _, ...missing } = headers;
    void _;
    expect(checkResponse(sample('POST', '/sql', 200, 'a\n1\n', missing)).problems.join()).toMatch(/X-Lakehouse-Row-Count is required/);
  });

  it('an unknown route may only be the catch-all 404 envelope', () => {
    expect(checkResponse(sample('PATCH', '/nope', 404, { error: { code: 'not_found', message: 'No route' } })).problems).toEqual([]);
    expect(checkResponse(sample('PATCH', '/nope', 200, ok)).problems.join()).toMatch(/no operation PATCH \/nope/);
  });

  it('the test helper throws with the operation and the problems', () => {
    expect(() => assertMatchesOpenApi(sample('GET', '/health', 200, { status: 'ok' }))).toThrow(/GET \/health → 200[\s\S]*required property 'service'/);
  });
});

describe('LAKEHOUSE_VALIDATE_RESPONSES=1: the server checks its own responses', () => {
  const drifted = httpHandler(async () => ({ status: 200, json: { status: 'ok', service: 'lakehouse', version: '0.1.0', uptime: 3 } }), { auth: false });

  it('off (the default), a drifted response goes out as it is', async () => {
    const res = await drifted(httpEvent({ method: 'GET', path: '/health' }) as never, lambdaContext() as never);
    expect(res.statusCode).toBe(200);
  });

  it('on, a drifted response becomes 500 response_invalid naming the problem, and is logged', async () => {
    setEnv('LAKEHOUSE_VALIDATE_RESPONSES', '1');
    const lines: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => {
      lines.push(String(s));
      return true;
    };
    let res;
    try {
      res = await drifted(httpEvent({ method: 'GET', path: '/health' }) as never, lambdaContext() as never);
    } finally {
      (process.stderr as unknown as { write: typeof orig }).write = orig;
    }
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe('response_invalid');
    expect(body.error.message).toMatch(/GET \/health → 200.*"uptime"/);
    expect(lines.join('')).toMatch(/"code":"response_invalid"/);
    // the replacement itself is a documented response
    assertMatchesOpenApi({ method: 'GET', path: '/health', status: res.statusCode, headers: res.headers, body: res.body });
  });

  it('on, matching responses (errors included) pass unchanged', async () => {
    setEnv('LAKEHOUSE_VALIDATE_RESPONSES', '1');
    const h = await callHttp(health, { method: 'GET', path: '/health' });
    expect(h.status).toBe(200);
    setEnv('LAKEHOUSE_API_TOKEN', 'sekrit');
    const o = await callHttp(openapi, { method: 'GET', path: '/openapi.json' });
    expect(o.status).toBe(200);
  });
});
