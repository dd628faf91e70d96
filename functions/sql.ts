/** POST /sql — one read-only statement over the datasets; json (default), csv, ndjson or arrow. */
import { httpHandler } from '../lib/http/middleware.js';
import { sqlResponse } from '../lib/http/sql-response.js';
import { parseSqlRequest, runSql } from '../lib/query/run.js';

export const handler = httpHandler(async (req) => sqlResponse(await runSql(parseSqlRequest(req.body, req.headers['accept']))), { jsonBody: true });
