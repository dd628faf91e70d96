/** GET /uploads/{id} — the upload's status record. */
import { httpHandler, pathParam } from '../lib/http/middleware.js';
import { notFound } from '../lib/errors.js';
import { isValidUploadId } from '../lib/names.js';
import { publicStatus, readStatus } from '../lib/ingest/status.js';

export const handler = httpHandler(async (req) => {
  const id = pathParam(req, 'id') ?? '';
  if (!isValidUploadId(id)) throw notFound(`No upload with id "${id.slice(0, 100)}".`);
  const rec = await readStatus(id);
  if (!rec) throw notFound(`No upload with id "${id}".`);
  return { status: 200, json: await publicStatus(rec) };
});
