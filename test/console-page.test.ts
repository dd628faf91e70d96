/**
 * GET / (functions/console.ts → lib/console/page.ts): the console page built by
 * scripts/build-console.mjs, with a Content-Security-Policy that allows exactly the page's own
 * inline script (by hash), its style (by hash) and CodeMirror's style element (by a nonce fresh per
 * response), and connections to this origin and the presigned-URL origin only. Also from a bundle
 * built as serverless-esbuild builds it, away from the checkout. No servers (the browser test is
 * test/console.test.ts).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { handler } from '../functions/console.js';
import { callHttp, httpEvent, lambdaContext } from './helpers/lambda.js';
import { scopedEnv } from './helpers/env.js';
import { withBundledHandler } from './helpers/bundle.js';

const setEnv = scopedEnv();
const sha = (t: string) => crypto.createHash('sha256').update(t, 'utf8').digest('base64');

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
}

function inline(html: string, tag: 'script' | 'style'): { attrs: string; text: string }[] {
  return [...html.matchAll(new RegExp(`<${tag}([^>]*)>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => ({ attrs: m[1]!, text: m[2]! }));
}

let gzipBytes = 0;
beforeAll(async () => {
  // the page as the current sources build it (npm ci and npm start build it too)
  execFileSync(process.execPath, ['scripts/build-console.mjs', '--quiet'], { stdio: 'inherit' });
  gzipBytes = zlib.gzipSync(fs.readFileSync('dist/console/index.html'), { level: 9 }).length;
}, 60_000);

describe('GET /', () => {
  it('is one HTML page whose CSP allows exactly its own inline script and style, this origin and the bucket', async () => {
    const r = await callHttp(handler, { method: 'GET', path: '/' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    const csp = directives(r.headers['content-security-policy']!);
    const scripts = inline(r.text, 'script');
    const styles = inline(r.text, 'style');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    const nonce = /nonce="([^"]+)"/.exec(scripts[0]!.attrs)?.[1];
    expect(nonce).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual([`'sha256-${sha(scripts[0]!.text)}'`]);
    expect(csp.get('style-src')).toEqual([`'sha256-${sha(styles[0]!.text)}'`, `'nonce-${nonce}'`]);
    expect(csp.get('connect-src')).toEqual(["'self'", new URL(process.env.S3_ENDPOINT!).origin]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(r.headers['content-security-policy']).not.toMatch(/\*|unsafe-|data:|blob:/);
    // nothing loaded from anywhere: no src/href to another origin outside the inline code
    const markup = r.text.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, '');
    expect(markup).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(markup).not.toMatch(/<(link|img|iframe|object)\b/i);
  });

  it('a fresh nonce for every response', async () => {
    const a = await callHttp(handler, { method: 'GET', path: '/' });
    const b = await callHttp(handler, { method: 'GET', path: '/' });
    const nonce = (csp: string) => /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce(a.headers['content-security-policy']!)).toBeDefined();
    expect(nonce(a.headers['content-security-policy']!)).not.toBe(nonce(b.headers['content-security-policy']!));
    expect(a.text).toContain(`nonce="${nonce(a.headers['content-security-policy']!)}"`);
  });

  it('gzipped when the client accepts gzip: the same page', async () => {
    const r = await callHttp(handler, { method: 'GET', path: '/', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    const html = zlib.gunzipSync(r.body).toString('utf8');
    const nonce = /'nonce-([^']+)'/.exec(r.headers['content-security-policy']!)![1]!;
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(r.body.length).toBeLessThan(300 * 1024);
    const plain = await callHttp(handler, { method: 'GET', path: '/' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text.replace(/nonce="[^"]+"/, '')).toBe(html.replace(/nonce="[^"]+"/, ''));
  });

  it('is public even with a token set (it holds no data; the API asks for the token)', async () => {
    setEnv('LAKEHOUSE_API_TOKEN', 'sekrit');
    const r = await callHttp(handler, { method: 'GET', path: '/' });
    expect(r.status).toBe(200);
  });

  it('stays under 300 KB gzipped', () => {
    expect(gzipBytes).toBeGreaterThan(10_000);
    expect(gzipBytes).toBeLessThan(300 * 1024);
  });

  it('works from a bundle built as serverless-esbuild builds it, away from the checkout', async () => {
    const warnings = await withBundledHandler<typeof handler>('console', async (bundled) => {
      const res = await bundled(httpEvent({ method: 'GET', path: '/' }) as never, lambdaContext() as never);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<title>Lakehouse console</title>');
      expect(res.headers['content-security-policy']).toContain("script-src 'sha256-");
    });
    expect(warnings).toEqual([]);
  });
});
