/** GET /openapi.json — the API's OpenAPI 3.1 document (openapi.yaml); public, like /health. */
import { httpHandler } from '../lib/http/middleware.js';
import { openapiDocument } from '../lib/http/openapi.js';

export const handler = httpHandler(async () => ({ status: 200, json: openapiDocument() }), { auth: false });
