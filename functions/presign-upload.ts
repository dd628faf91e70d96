/** POST /uploads — a presigned PUT for uploads/<name>/<upload_id>.<ext> and a pending status record. */
import { httpHandler } from '../lib/http/middleware.js';
import { createUpload } from '../lib/ingest/presign.js';

export const handler = httpHandler(
  async (req) => {
    const host = req.headers['x-forwarded-host'] ?? req.headers['host'];
    const proto = req.headers['x-forwarded-proto'] ?? (host?.startsWith('127.0.0.1') || host?.startsWith('localhost') ? 'http' : 'https');
    const result = await createUpload(req.body, host ? `${proto}://${host}` : undefined);
    return { status: 201, json: result };
  },
  { jsonBody: true },
);
