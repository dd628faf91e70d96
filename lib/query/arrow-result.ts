/**
 * Arrow IPC: DuckDB writes the result to a Parquet file in the request's scratch directory, which
 * is turned into an Arrow IPC stream one row group at a time (bounded memory), into a file that is
 * returned inline or, when too big, uploaded to results/. Both files and the file stream are
 * closed and removed whatever happens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { config } from '../config.js';
import { sqlString } from '../duckdb.js';
import { publish } from './spill.js';
import { bindAll } from './statements.js';
import type { QueryResult, ResultRun } from './result.js';

export interface ArrowRun extends ResultRun {
  /** The result's column names as the statement gives them (the Parquet file has positional ones). */
  names: string[];
  con: DuckDBConnection;
  selectSql: string;
}

export async function arrowResult({ con, selectSql, req, names, queryId, started, dir, deadline, scan }: ArrowRun): Promise<QueryResult> {
  const cfg = config();
  const file = path.join(dir(), `${queryId}.parquet`);
  const ipcFile = path.join(dir(), `${queryId}.arrow`);
  let sink: fs.WriteStream | undefined;
  let piping: Promise<void> | undefined;
  try {
    const t0 = Date.now();
    const stmt = await con.prepare(`COPY (${selectSql}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)`);
    let written: number;
    try {
      bindAll(stmt, req.params);
      deadline.check();
      written = Number((await stmt.run()).rowsChanged);
    } finally {
      stmt.destroySync();
    }
    const truncated = written > req.limit;
    const total = truncated ? req.limit : written;
    const [{ readParquet }, arrow, { parquetMetadata }] = await Promise.all([import('parquet-wasm'), import('apache-arrow'), import('hyparquet')]);
    const bytes = fs.readFileSync(file);
    const groups = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).row_groups.length;
    // binary bodies travel base64-encoded through API Gateway: keep under the cap after encoding
    const cap = Math.floor((cfg.sqlMaxInlineBytes * 3) / 4) - 64 * 1024;
    let schema: InstanceType<typeof arrow.Schema> | undefined;
    const rename = (s: InstanceType<typeof arrow.Schema>) =>
      new arrow.Schema(s.fields.map((f, i) => new arrow.Field(names[i] ?? f.name, f.type, f.nullable, f.metadata)), s.metadata);
    const writer = new arrow.RecordBatchStreamWriter();
    const out = fs.createWriteStream(ipcFile);
    sink = out;
    piping = pipeline(writer.toNodeStream(), out);
    piping.catch(() => undefined);
    const inline: Array<InstanceType<typeof arrow.RecordBatch>> = [];
    let inlineFull = false;
    let remaining = total;
    for (let g = 0; g < groups && remaining > 0; g++) {
      deadline.check();
      const t = arrow.tableFromIPC(readParquet(bytes, { rowGroups: [g] }).intoIPCStream());
      schema ??= rename(t.schema);
      for (const b of t.batches) {
        if (remaining <= 0) break;
        let batch = new arrow.RecordBatch(schema, b.data);
        if (batch.numRows > remaining) batch = batch.slice(0, remaining);
        remaining -= batch.numRows;
        writer.write(batch);
        if (!inlineFull) inline.push(batch);
      }
      // let the file stream drain what the writer serialised (memory stays one row group)
      await new Promise((r) => setImmediate(r));
      if (out.bytesWritten + out.writableLength > cap * 0.9) inlineFull = true;
    }
    if (!schema) schema = rename(arrow.tableFromIPC(readParquet(bytes).intoIPCStream()).schema);
    if (total === 0) writer.reset(undefined, schema);
    writer.finish();
    await piping;
    const ipcBytes = fs.statSync(ipcFile).size;
    const execMs = Date.now() - t0;
    let resultUrl: string | undefined;
    let body: Buffer;
    let uploadMs = 0;
    if (ipcBytes > cap) {
      deadline.check();
      const t1 = Date.now();
      resultUrl = await publish(ipcFile, 'arrow', queryId);
      uploadMs = Date.now() - t1;
      // the first rows inline, as many as fit
      const all = new arrow.Table(inline);
      const perRow = ipcBytes / Math.max(1, total);
      const fit = Math.min(all.numRows, Math.max(0, Math.floor((cap * 0.9) / perRow)));
      body = Buffer.from(arrow.tableToIPC(all.slice(0, fit), 'stream'));
    } else {
      body = fs.readFileSync(ipcFile);
    }
    return { format: 'arrow', body, rowCount: total, truncated, queryId, elapsedMs: Date.now() - started, resultUrl, execMs, uploadMs, ...(scan ? { scan } : {}) };
  } finally {
    if (sink && !sink.closed) {
      const s = sink;
      await new Promise<void>((r) => {
        s.once('close', () => r());
        s.destroy();
      });
    }
    await piping?.catch(() => undefined);
    fs.rmSync(file, { force: true });
    fs.rmSync(ipcFile, { force: true });
  }
}
