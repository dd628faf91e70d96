/** GET / — the web console (lib/console/page.ts); public like /health: the page holds no data. */
import { httpHandler } from '../lib/http/middleware.js';
import { consolePage } from '../lib/console/page.js';

export const handler = httpHandler(
  async () => {
    const page = await consolePage();
    return {
      status: 200,
      raw: { body: page.html, contentType: 'text/html; charset=utf-8' },
      headers: {
        'content-security-policy': page.csp,
        'x-content-type-options': 'nosniff',
        // presigned URLs carry signatures: never sent on as a Referer
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
      },
    };
  },
  { auth: false },
);
