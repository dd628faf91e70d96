/** POST /uploads — a presigned PUT for uploads/<name>/<upload_id>.<ext> and a pending status record. */
import { httpHandler, publicBaseUrl } from '../lib/http/middleware.js';
import { createUpload } from '../lib/ingest/presign.js';

export const handler = httpHandler(
  async (req) => {
    // status_url from configuration or API Gateway's domain name, never from the client's headers
    const result = await createUpload(req.body, publicBaseUrl(req));
    return { status: 201, json: result };
  },
  { jsonBody: true },
);
