/** GET /uploads/{id}[?wait=N] — the upload's status record; with `wait`, once its state changes. */
import { httpHandler, pathParam } from '../lib/http/middleware.js';
import { notFound } from '../lib/errors.js';
import { isValidUploadId } from '../lib/names.js';
import { publicStatus } from '../lib/ingest/status.js';
import { parseWait, readStatusWhenChanged } from '../lib/ingest/status-wait.js';

/** What a wait leaves of the function's time, for answering. */
const ANSWER_MARGIN_MS = 2000;

export const handler = httpHandler(async (req) => {
  const id = pathParam(req, 'id') ?? '';
  if (!isValidUploadId(id)) throw notFound(`No upload with id "${id.slice(0, 100)}".`);
  const wait = parseWait(req.query.wait);
  const waitMs = Math.min(wait * 1000, (req.remainingMs?.() ?? Infinity) - ANSWER_MARGIN_MS);
  const rec = await readStatusWhenChanged(id, waitMs);
  if (!rec) throw notFound(`No upload with id "${id}".`);
  return { status: 200, json: await publicStatus(rec) };
});
