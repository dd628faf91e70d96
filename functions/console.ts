/**
 * GET / — the web console (lib/console/page.ts); public like /health: the page holds no data.
 * Gzipped when the client accepts it (API Gateway does not compress; the page is ~0.5 MB, ~180 KB gzipped).
 */
import zlib from 'node:zlib';
import { httpHandler } from '../lib/http/middleware.js';
import { consolePage } from '../lib/console/page.js';

export const handler = httpHandler(
  async (req) => {
    const page = await consolePage();
    const gzip = /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
    return {
      status: 200,
      raw: { body: gzip ? zlib.gzipSync(page.html) : page.html, contentType: 'text/html; charset=utf-8' },
      headers: {
        'content-security-policy': page.csp,
        'x-content-type-options': 'nosniff',
        // presigned URLs carry signatures: never sent on as a Referer
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      },
    };
  },
  { auth: false },
);
