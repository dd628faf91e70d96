import { httpHandler } from '../lib/http/middleware.js';
import { SERVICE, VERSION } from '../lib/config.js';

/** GET /health — always public (docs/api.md "Auth"). */
export const handler = httpHandler(async () => ({ status: 200, json: { status: 'ok', service: SERVICE, version: VERSION } }), {
  auth: false,
});
