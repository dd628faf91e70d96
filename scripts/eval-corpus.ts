/**
 * `npm run eval:corpus [-- --dir <folder with truth.json>] [--only <substring>]` — reads every file
 * of a labelled corpus (test/corpus/real by default, or any folder laid out the same way: files
 * plus truth.json) through the same analysis and DuckDB conversion as the ingest, in process (no
 * stack), and compares names, row count and every cell with csv-parse told the true dialect.
 * Prints one line per miss and "N/M exact"; exits 1 on any miss. Files marked "ragged" must fail
 * with ragged_row.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { analyzeFile } from '../lib/ingest/analyze.js';
import { prepareInput } from '../lib/ingest/pipeline.js';
import { csvToParquet } from '../lib/ingest/convert.js';
import { LakehouseError } from '../lib/errors.js';
import { CORPUS_DIR, compareTables, expectedTable, loadTruth } from '../test/helpers/corpus.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { dir: { type: 'string', default: CORPUS_DIR }, only: { type: 'string' } } });
  const dir = path.resolve(values.dir!);
  const duck = await DuckDBInstance.create(':memory:');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-corpus-'));
  let exact = 0;
  let n = 0;
  try {
    for (const t of loadTruth(dir)) {
      if (values.only && !t.file.includes(values.only)) continue;
      n++;
      const work = fs.mkdtempSync(path.join(tmp, 'f-'));
      const src = path.join(work, 'in.csv');
      fs.copyFileSync(path.join(dir, t.file), src);
      try {
        const a = await analyzeFile(src, { badRows: 'fail', workDir: work });
        if (t.ragged) {
          process.stdout.write(`MISS ${t.file}: rows of another width, but it loaded\n`);
          continue;
        }
        const input = prepareInput(a, work);
        const out = path.join(work, 'out.parquet');
        await csvToParquet({ input: input.file, output: out, dialect: input.dialect, header: input.header, columns: a.columns, maxRecordBytes: a.scan.maxRecordBytes });
        const con = await duck.connect();
        const r = await con.runAndReadAll(`SELECT * FROM read_parquet('${out.replace(/'/g, "''")}')`);
        con.closeSync();
        const cmp = compareTables(expectedTable(t, dir), { columns: a.columns, rows: r.getRowsJson() as unknown[][] });
        if (cmp.exact) exact++;
        else process.stdout.write(`MISS ${t.file}: ${cmp.firstMismatch}\n`);
      } catch (e) {
        if (t.ragged && e instanceof LakehouseError && e.code === 'ragged_row') exact++;
        else process.stdout.write(`FAIL ${t.file}: ${(e as Error).message.slice(0, 200)}\n`);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${exact}/${n} exact (ragged files count when they fail with ragged_row)\n`);
  return exact === n ? 0 : 1;
}

void main().then((code) => process.exit(code));
