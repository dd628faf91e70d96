/**
 * Messy CSVs (issue 8), one test per pollution type and base table: the polluted file must load
 * as its clean table — header, every record, every cell — through the same analysis and DuckDB
 * conversion the ingest runs. Inconsistent rows: with quarantine, every consistent row loads and
 * exactly the others are set aside, with their physical line numbers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { analyzeFile } from '../lib/ingest/analyze.js';
import { prepareInput } from '../lib/ingest/pipeline.js';
import { csvToParquet } from '../lib/ingest/convert.js';
import { baseTables, variants, type Variant } from '../scripts/polluter.js';
import { score } from '../scripts/bench-dialect.js';

let dir: string;
const all: Variant[] = [];
let duck: DuckDBInstance;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialect-'));
  for (const base of await baseTables(120)) all.push(...variants(base, 5));
  duck = await DuckDBInstance.create(':memory:');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function load(v: Variant) {
  const work = fs.mkdtempSync(path.join(dir, 'w-'));
  const file = path.join(work, 'in.csv');
  fs.writeFileSync(file, v.text);
  const a = await analyzeFile(file, { badRows: v.dialectOnly ? 'fail' : 'quarantine', workDir: work });
  const input = prepareInput(a, work);
  const out = path.join(work, 'out.parquet');
  const n = await csvToParquet({ input: input.file, output: out, dialect: input.dialect, header: input.header, columns: a.columns, maxRecordBytes: a.scan.maxRecordBytes });
  const con = await duck.connect();
  const r = await con.runAndReadAll(`SELECT COLUMNS(*)::VARCHAR FROM read_parquet('${out}')`);
  con.closeSync();
  return { a, n, header: a.columns.map((c) => c.name), rows: r.getRowsJson() as string[][] };
}

// the pollution types, known before the corpus is built (one describe per type)
const TYPES = [
  'clean', 'delim_semicolon', 'delim_tab', 'delim_pipe', 'delim_colon', 'delim_caret', 'stray_quote', 'stray_quote_open', 'backslash_escape',
  'single_quote', 'padded', 'preamble', 'footer', 'comments', 'blank_lines', 'cr_only', 'mixed_newlines', 'header_fewer', 'header_fewer_trailing',
  'header_more', 'no_header', 'single_column', 'combo_preamble_semicolon_crlf', 'combo_stray_quote_tab',
  'combo_padded_pipe_footer', 'combo_comments_blank_cr', 'combo_single_quote_semicolon',
];

describe('dialect-only pollutions load exactly as the clean table', () => {
  for (const type of TYPES) {
    it(type, async () => {
      const vs = all.filter((v) => v.pollution === type);
      expect(vs.length).toBeGreaterThan(0);
      for (const v of vs) {
        const got = await load(v);
        const m = score(v.expected, { ok: true, header: got.header, rows: got.rows });
        expect({ id: v.id, header: got.header }).toEqual({ id: v.id, header: v.expected.header });
        expect({ id: v.id, cell_r: m.cell_r, cell_p: m.cell_p, record_r: m.record_r, record_p: m.record_p }).toEqual({
          id: v.id,
          cell_r: 1,
          cell_p: 1,
          record_r: 1,
          record_p: 1,
        });
        expect(got.n).toBe(v.expected.rows.length);
      }
    });
  }
});

describe('inconsistent rows', () => {
  for (const type of ['inconsistent_extra', 'inconsistent_missing']) {
    it(`${type}: quarantine loads every consistent row and sets aside exactly the others`, async () => {
      for (const v of all.filter((x) => x.pollution === type)) {
        expect(v.inconsistentLines.length).toBeGreaterThan(0);
        const got = await load(v);
        const m = score(v.expected, { ok: true, header: got.header, rows: got.rows });
        expect({ id: v.id, record_r: m.record_r, record_p: m.record_p }).toEqual({ id: v.id, record_r: 1, record_p: 1 });
        expect(got.a.scan.bad.map((b) => b.line)).toEqual(v.inconsistentLines);
        for (const b of got.a.scan.bad) expect(b.reason).toMatch(type.endsWith('extra') ? /too many fields/ : /too few fields/);
      }
    });
  }
});
