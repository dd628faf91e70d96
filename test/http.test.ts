import fs from 'node:fs';
import { describe, it, expect } from 'vitest';
import { handler as health } from '../functions/health.js';
import { handler as notFound } from '../functions/not-found.js';
import { handler as registerFn } from '../functions/register.js';
import { callHttp } from './helpers/lambda.js';
import { redact } from '../lib/redact.js';
import { log } from '../lib/log.js';
import { scopedEnv } from './helpers/env.js';

const setEnv = scopedEnv();

describe('HTTP plumbing', () => {
  it('GET /health returns the contract body', async () => {
    const r = await callHttp(health, { method: 'GET', path: '/health' });
    expect(r.status).toBe(200);
    // the version the package is released as (it read 0.4.1 through 0.5.0 and 0.5.1)
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.json).toEqual({ status: 'ok', service: 'lakehouse', version: pkg.version });
    expect(r.headers['x-request-id']).toBeTruthy();
  });

  it('unknown route → 404 not_found envelope', async () => {
    const r = await callHttp(notFound, { method: 'DELETE', path: '/nope', routeKey: '$default' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not_found');
    expect(r.json.error.message).toMatch(/DELETE \/nope/);
  });

  it('bad JSON → 400 invalid_json', async () => {
    const r = await callHttp(registerFn, { method: 'POST', path: '/catalog/register', rawBody: '{"name": ' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } });
  });

  it('base64-encoded bodies are decoded before parsing', async () => {
    const r = await callHttp(registerFn, { method: 'POST', path: '/catalog/register', rawBody: '{"name":"bad name"}', base64: true });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_name');
  });

  it('body over the cap → 413 body_too_large, checked before parsing', async () => {
    setEnv('LAKEHOUSE_MAX_BODY_BYTES', '1000');
    const big = JSON.stringify({ name: 'x', pad: 'a'.repeat(2000) });
    const r = await callHttp(registerFn, { method: 'POST', path: '/catalog/register', rawBody: big });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('body_too_large');
    // a lying content-length does not help: the real size is checked too
    const r2 = await callHttp(registerFn, {
      method: 'POST',
      path: '/catalog/register',
      rawBody: big,
      headers: { 'content-length': '10' },
    });
    expect(r2.status).toBe(413);
  });

  it('token set: missing or wrong bearer → 401; right one passes; /health stays public', async () => {
    setEnv('LAKEHOUSE_API_TOKEN', 'sekrit-token-123');
    const none = await callHttp(registerFn, { method: 'POST', path: '/catalog/register', body: {} });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    const wrong = await callHttp(registerFn, {
      method: 'POST',
      path: '/catalog/register',
      body: {},
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('sekrit');
    const right = await callHttp(registerFn, {
      method: 'POST',
      path: '/catalog/register',
      body: { name: 'Bad Name' },
      headers: { Authorization: 'Bearer sekrit-token-123' },
    });
    expect(right.status).toBe(400); // got past auth to validation
    const h = await callHttp(health, { method: 'GET', path: '/health' });
    expect(h.status).toBe(200);
  });

  it('redaction removes credential values and credential-shaped strings', () => {
    setEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    const s = redact(
      'failed with key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY at https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101&X-Amz-Signature=abcdef0123456789 Bearer abc.def',
    );
    expect(s).not.toContain('wJalrXUtnFEMI');
    expect(s).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(s).not.toContain('abcdef0123456789');
    expect(s).not.toContain('abc.def');
  });

  it('log lines never carry a credential value', () => {
    setEnv('AWS_SECRET_ACCESS_KEY', 'super-secret-value-42');
    setEnv('LAKEHOUSE_LOG_LEVEL', 'info');
    const lines: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => {
      lines.push(String(s));
      return true;
    };
    try {
      log.info('connecting', { url: 'http://x/?X-Amz-Signature=deadbeefdeadbeef', secret: 'super-secret-value-42', headers: { Authorization: 'Bearer tok' } });
    } finally {
      (process.stdout as unknown as { write: typeof orig }).write = orig;
    }
    expect(lines.join('')).toContain('connecting');
    expect(lines.join('')).not.toContain('super-secret-value-42');
    expect(lines.join('')).not.toContain('deadbeefdeadbeef');
    expect(lines.join('')).not.toContain('tok"');
  });
});
