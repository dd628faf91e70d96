/**
 * POST /catalog/register — and, for `sls invoke local -f register --path events/register.json`,
 * a direct invocation whose payload is the register request itself. HTTP callers get the HTTP
 * envelope; a direct invocation that fails throws (a failed invocation to Lambda, not a result).
 */
import { httpHandler, isHttpEvent } from '../lib/http/middleware.js';
import { invocationError } from '../lib/http/errors.js';
import { register } from '../lib/catalog/register.js';
import { publicManifest } from '../lib/catalog/manifest.js';

const http = httpHandler(
  async (req) => {
    const r = await register(req.body);
    return { status: 200, json: { manifest: publicManifest(r.manifest), existing: r.existing } };
  },
  { jsonBody: true },
);

export const handler = async (event: unknown, context: unknown) => {
  if (isHttpEvent(event)) return http(event as never, context as never);
  try {
    const r = await register(event);
    return { manifest: publicManifest(r.manifest), existing: r.existing };
  } catch (e) {
    throw invocationError(e);
  }
};
