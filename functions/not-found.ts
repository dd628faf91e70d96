import { httpHandler } from '../lib/http/middleware.js';
import { notFound } from '../lib/errors.js';

/** Catch-all route: any path/method not declared in serverless.yml → 404 not_found. */
export const handler = httpHandler(
  async (req) => {
    throw notFound(`No route for ${req.method} ${req.path}.`);
  },
  { auth: false },
);
