/** POST /sql — one read-only statement over the datasets; json (default), csv, ndjson or arrow. */
import { httpHandler } from '../lib/http/middleware.js';
import { parseSqlRequest, runSql } from '../lib/query/run.js';

export const handler = httpHandler(
  async (req) => {
    const r = await runSql(parseSqlRequest(req.body, req.headers['accept']));
    if (r.jsonText !== undefined) {
      return { status: r.status, raw: { body: r.jsonText, contentType: 'application/json' }, headers: r.headers };
    }
    return { status: r.status, raw: r.raw!, headers: r.headers };
  },
  { jsonBody: true },
);
