/**
 * JSON / CSV / NDJSON results: rows that DuckDB has already encoded (one text per row) are streamed
 * chunk by chunk into the inline body; past the inline cap the whole result goes to a spill file and
 * then to results/ (spill.ts). The spill file is disposed of whatever happens.
 */
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { config } from '../config.js';
import { LakehouseError } from '../errors.js';
import { csvHeader } from './encode.js';
import { Spill, publish } from './spill.js';
import type { QueryResult, ResultRun } from './result.js';
import type { Compiled } from './statements.js';

export interface TextRun extends ResultRun {
  compiled: Compiled;
}

export async function textResult({ compiled, req, queryId, started, dir, deadline, scan }: TextRun): Promise<QueryResult> {
  const cap = Math.max(1024, config().sqlMaxInlineBytes - 64 * 1024);
  const t0 = Date.now();
  const inline: string[] = [];
  let inlineBytes = 0;
  let total = 0;
  let truncated = false;
  let spill: Spill | undefined;
  const json = req.format === 'json';
  const sep = json ? ',' : '\n';
  const end = json ? '' : '\n';
  const { stmt, result: res, columns, decode } = await compiled.open(req.params);
  const colsJson = JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type.toString() })));
  const startSpill = (): Spill => {
    const s = new Spill(dir(), `${queryId}.${req.format}`);
    spill = s;
    if (json) s.write(`{"query_id":${JSON.stringify(queryId)},"columns":${colsJson},"rows":[`);
    if (req.format === 'csv') s.write(csvHeader(columns.map((c) => c.name)) + '\n');
    if (inline.length) s.write(inline.join(sep) + end);
    return s;
  };
  try {
    let ended = false;
    for (;;) {
      deadline.check();
      const chunk = await res.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const decoded = decode(chunk);
      if (decoded.ended) ended = true;
      let rows = decoded.rows;
      if (total + rows.length > req.limit) {
        truncated = true;
        rows = rows.slice(0, req.limit - total);
      }
      const lead = total === 0 || !json ? '' : sep;
      total += rows.length;
      if (rows.length) {
        if (spill) {
          spill.write(lead + rows.join(sep) + end);
        } else {
          const text = rows.join(sep);
          const bytes = Buffer.byteLength(text) + 1;
          if (inlineBytes + bytes > cap) {
            startSpill().write(lead + text + end);
            // keep the rows of this chunk that still fit inline
            for (const r of rows) {
              const b = Buffer.byteLength(r) + 1;
              if (inlineBytes + b > cap) break;
              inline.push(r);
              inlineBytes += b;
            }
          } else {
            for (const r of rows) inline.push(r);
            inlineBytes += bytes;
          }
        }
      }
      if (truncated) break;
    }
    // an interrupted stream (the deadline) ends like a failed one: the deadline answers first, so
    // the statement is not run again to find an error it does not have
    if (!truncated && !ended) {
      deadline.check();
      await streamFailed(stmt);
    }
    let resultUrl: string | undefined;
    const execMs = Date.now() - t0;
    let uploadMs = 0;
    if (spill) {
      if (json) spill.write(`],"row_count":${total},"truncated":${truncated}}`);
      spill.close();
      deadline.check();
      const t1 = Date.now();
      resultUrl = await publish(spill.file, req.format, queryId);
      uploadMs = Date.now() - t1;
    }
    const elapsedMs = Date.now() - started;
    let body: string;
    if (json) {
      body =
        `{"columns":${colsJson},"rows":[${inline.join(',')}],"row_count":${total},"truncated":${truncated},` +
        `"query_id":${JSON.stringify(queryId)},"elapsed_ms":${elapsedMs}` +
        (scan ? `,"objects_scanned":${scan.objectsScanned},"objects_total":${scan.objectsTotal},"bytes_fetched":${scan.bytesFetched}` : '') +
        (resultUrl ? `,"result_url":${JSON.stringify(resultUrl)},"rows_inline":${inline.length}` : '') +
        '}';
    } else {
      const lines = inline.map((r) => r + '\n').join('');
      body = req.format === 'csv' ? csvHeader(columns.map((c) => c.name)) + '\n' + lines : lines;
    }
    return { format: req.format, body, rowCount: total, truncated, queryId, elapsedMs, resultUrl, execMs, uploadMs, ...(scan ? { scan } : {}) };
  } finally {
    (spill as Spill | undefined)?.dispose();
  }
}

/**
 * The stream ended without its end marker: the query failed part-way. Running the statement again,
 * materialised, raises DuckDB's error (mapped like any other); if it does not, the result cannot
 * be trusted either way.
 */
async function streamFailed(stmt: DuckDBPreparedStatement): Promise<never> {
  await stmt.run();
  throw new LakehouseError('internal', 'The query stopped before the end of its result without saying why; nothing was returned.');
}
