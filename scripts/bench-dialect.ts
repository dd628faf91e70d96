/**
 * `npm run bench:dialect` — messy CSVs through the real path, against DuckDB's own auto-detect.
 *
 * Builds the polluted corpus (scripts/polluter.ts), ingests every variant through the running
 * stack (presign → PUT → S3 event → ingest → /sql), reads the same files with DuckDB's pure
 * auto-detect (`read_csv(file)`), and reports per pollution type: the share of files loaded and
 * header / record / cell precision and recall against the clean table. Variants with inconsistent
 * rows are ingested with bad_rows "quarantine": every consistent row must load and exactly the
 * rest must be quarantined.
 *
 *   npm run bench:dialect [-- --rows 400] [--out bench/dialect-results.json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { DuckDBInstance } from '@duckdb/node-api';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { baseTables, variants, type Variant } from './polluter.js';
import { CORPUS_DIR, compareTables, expectedTable, loadTruth, type Comparison } from '../test/helpers/corpus.js';
import { type Json, benchArgs, writeResults } from './bench-common.js';

const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TS = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?$/;

export function norm(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return v.toString();
  const s = String(v);
  if (NUM.test(s)) return String(Number(s));
  if (/^(true|false)$/i.test(s)) return s.toLowerCase();
  const ts = TS.exec(s);
  if (ts) return `${ts[1]}T${ts[2]}${(ts[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '')}`;
  return s;
}

export interface Loaded {
  ok: boolean;
  header: string[];
  rows: string[][];
  error?: string;
}

export interface Metrics {
  loaded: boolean;
  header_p: number;
  header_r: number;
  record_p: number;
  record_r: number;
  cell_p: number;
  cell_r: number;
  cells_expected: number;
  cells_loaded: number;
  cells_matched: number;
}

function multisetMatch(expected: string[], got: string[]): number {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  let m = 0;
  for (const g of got) {
    const c = counts.get(g) ?? 0;
    if (c > 0) {
      m++;
      counts.set(g, c - 1);
    }
  }
  return m;
}

export function score(expected: { header: string[]; rows: string[][] }, got: Loaded): Metrics {
  const expRows = expected.rows.map((r) => r.map(norm));
  const expCells = expRows.flatMap((r) => r.map((c, j) => `${j}\u0001${c}`));
  if (!got.ok) {
    return { loaded: false, header_p: 0, header_r: 0, record_p: 0, record_r: 0, cell_p: 0, cell_r: 0, cells_expected: expCells.length, cells_loaded: 0, cells_matched: 0 };
  }
  const headerHits = got.header.filter((h, j) => expected.header[j] === h).length;
  const gotRows = got.rows.map((r) => r.map(norm));
  const recHits = multisetMatch(expRows.map((r) => JSON.stringify(r)), gotRows.map((r) => JSON.stringify(r)));
  const gotCells = gotRows.flatMap((r) => r.map((c, j) => `${j}\u0001${c}`));
  const cellHits = multisetMatch(expCells, gotCells);
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : 0) : a / b);
  return {
    loaded: true,
    header_p: ratio(headerHits, got.header.length),
    header_r: ratio(headerHits, expected.header.length),
    record_p: ratio(recHits, gotRows.length),
    record_r: ratio(recHits, expRows.length),
    cell_p: ratio(cellHits, gotCells.length),
    cell_r: ratio(cellHits, expCells.length),
    cells_expected: expCells.length,
    cells_loaded: gotCells.length,
    cells_matched: cellHits,
  };
}

async function loadOurs(stack: Stack, v: Variant, file: string, idx: number): Promise<Loaded & { status: Json }> {
  const name = `d${idx}_${v.pollution}`.toLowerCase().slice(0, 100);
  const body = fs.readFileSync(file);
  const p = (await (
    await fetch(`${stack.api}/uploads`, {
      method: 'POST',
      body: JSON.stringify({ name, size: body.length, filename: 'data.csv', bad_rows: v.dialectOnly ? 'fail' : 'quarantine' }),
    })
  ).json()) as Json;
  const put = await fetch(p.url, { method: 'PUT', body });
  if (!put.ok) throw new Error(`PUT ${put.status}`);
  const status = (await waitForUpload(stack.api, p.upload_id, 120_000)) as Json;
  if (status.state !== 'ready') return { ok: false, header: [], rows: [], error: `${status.error?.code}: ${status.error?.message}`, status };
  const q = (await (
    await fetch(`${stack.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: `SELECT * FROM "${name}"`, limit: 1_000_000 }) })
  ).json()) as Json;
  const rows = q.result_url ? ((await (await fetch(q.result_url)).json()) as Json).rows : q.rows;
  return { ok: true, header: q.columns.map((c: Json) => c.name), rows, status };
}

async function loadDuckdb(con: Awaited<ReturnType<DuckDBInstance['connect']>>, file: string): Promise<Loaded> {
  try {
    const r = await con.runAndReadAll(`SELECT COLUMNS(*)::VARCHAR FROM read_csv('${file.replace(/'/g, "''")}')`);
    return { ok: true, header: r.columnNames(), rows: r.getRowsJson() as string[][] };
  } catch (e) {
    return { ok: false, header: [], rows: [], error: (e as Error).message.split('\n')[0] };
  }
}

/** The real-world corpus (test/corpus/real): every file through the stack with no options, and DuckDB's auto-detect. */
async function realWorld(stack: Stack, con: Awaited<ReturnType<DuckDBInstance['connect']>>, dir: string) {
  const rows: Json[] = [];
  const truth = loadTruth().filter((t) => !t.ragged);
  for (const [i, t] of truth.entries()) {
    const body = fs.readFileSync(path.join(CORPUS_DIR, t.file));
    const exp = expectedTable(t);
    const name = `real${i}`;
    let ours: Comparison | undefined;
    let oursError: string | undefined;
    const p = (await (
      await fetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name, size: body.length, filename: path.basename(t.file) }) })
    ).json()) as Json;
    await fetch(p.url, { method: 'PUT', body });
    const status = (await waitForUpload(stack.api, p.upload_id, 120_000)) as Json;
    if (status.state === 'ready') {
      const q = (await (await fetch(`${stack.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: `SELECT * FROM "${name}"`, limit: 1_000_000 }) })).json()) as Json;
      const data = q.result_url ? ((await (await fetch(q.result_url)).json()) as Json) : q;
      ours = compareTables(exp, { columns: q.columns, rows: data.rows });
    } else oursError = `${status.error?.code}: ${status.error?.message}`;
    // DuckDB's auto-detect on the same bytes, scored by the same comparator (its NULL for an empty text cell counts as '')
    let duck: Comparison | undefined;
    let duckError: string | undefined;
    const file = path.join(dir, `real${i}${path.extname(t.file) || '.csv'}`);
    fs.writeFileSync(file, body);
    try {
      const r = await con.runAndReadAll(`SELECT * FROM read_csv('${file.replace(/'/g, "''")}')`);
      // DuckDB names a headerless file's columns column0…; that convention is not an error
      const generic = !t.header && r.columnNames().every((n) => /^column\d+$/.test(n));
      const columns = r.columnNames().map((n, j) => ({ name: generic ? `column_${j + 1}` : n, type: r.columnTypes()[j]!.toString() }));
      const data = (r.getRowsJson() as unknown[][]).map((row) => row.map((v, j) => (v === null && columns[j]!.type === 'VARCHAR' ? '' : v)));
      duck = compareTables(exp, { columns, rows: data });
    } catch (e) {
      duckError = (e as Error).message.split('\n')[0];
    }
    const row = { file: t.file, publisher: t.publisher, messy: t.messy, ours: ours ?? null, duckdb: duck ?? null, ...(oursError ? { ours_error: oursError } : {}), ...(duckError ? { duckdb_error: duckError } : {}) };
    rows.push(row);
    process.stderr.write(`[real] ${t.file}: ours ${ours ? (ours.exact ? 'exact' : `not exact (${ours.firstMismatch})`) : `FAILED ${oursError}`} · duckdb ${duck ? (duck.exact ? 'exact' : 'not exact') : 'failed'}\n`);
  }
  const sum = (who: 'ours' | 'duckdb', subset: Json[]) => {
    const cs = subset.map((r) => r[who] as Comparison | null);
    const cellsE = subset.reduce((n, r) => n + expectedCells(r), 0);
    return {
      files: subset.length,
      files_exact: cs.filter((c) => c?.exact).length,
      cells_exact: cs.reduce((n, c) => n + (c?.cellsMatched ?? 0), 0) / Math.max(1, cellsE),
    };
  };
  const expectedCells = (r: Json) => ((r.ours ?? r.duckdb)?.cellsExpected as number | undefined) ?? 0;
  return {
    files: rows.length,
    publishers: new Set(rows.map((r) => r.publisher)).size,
    all: { ours: sum('ours', rows), duckdb: sum('duckdb', rows) },
    messy: { ours: sum('ours', rows.filter((r) => r.messy)), duckdb: sum('duckdb', rows.filter((r) => r.messy)) },
    files_detail: rows,
  };
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

async function main() {
  const values = benchArgs({
    rows: { type: 'string', default: '400' },
    out: { type: 'string', default: 'bench/dialect-results.json' },
    only: { type: 'string' },
    echo: { type: 'boolean', default: false },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-dialect-'));
  const all: Variant[] = [];
  for (const base of await baseTables(Number(values.rows))) all.push(...variants(base).filter((v) => !values.only || v.pollution.includes(values.only)));
  process.stderr.write(`[dialect] ${all.length} files; starting the stack…\n`);
  const stack = await startStack({ dataDir: path.join(dir, 'stack'), echo: values.echo });
  const duck = await DuckDBInstance.create(':memory:');
  const con = await duck.connect();
  const perFile: Json[] = [];
  let real: Awaited<ReturnType<typeof realWorld>> | undefined;
  try {
    if (!values.only) real = await realWorld(stack, con, dir);
    for (const [i, v] of all.entries()) {
      const file = path.join(dir, `${v.id}.csv`);
      fs.writeFileSync(file, v.text);
      const ours = await loadOurs(stack, v, file, i);
      const theirs = await loadDuckdb(con, file);
      const row: Json = {
        id: v.id,
        pollution: v.pollution,
        dialect_only: v.dialectOnly,
        ours: score(v.expected, ours),
        duckdb: score(v.expected, theirs),
        ...(ours.error ? { ours_error: ours.error } : {}),
        ...(theirs.error ? { duckdb_error: theirs.error } : {}),
        detected: ours.status?.report?.dialect,
      };
      if (!v.dialectOnly) {
        const rejectsUrl = ours.status?.rejects_url as string | undefined;
        const rejected = rejectsUrl ? (parseCsv(await (await fetch(rejectsUrl)).text(), { columns: true }) as Array<{ line: string }>) : [];
        row.quarantine = {
          expected_lines: v.inconsistentLines,
          rejected_lines: rejected.map((r) => Number(r.line)),
          exact: JSON.stringify(rejected.map((r) => Number(r.line))) === JSON.stringify(v.inconsistentLines) && ours.ok && row.ours.record_p === 1 && row.ours.record_r === 1,
        };
      }
      perFile.push(row);
      process.stderr.write(`[dialect] ${v.id}: ours ${row.ours.loaded ? `cells ${(row.ours.cell_r * 100).toFixed(1)}%` : 'FAILED ' + (ours.error ?? '')} · duckdb ${row.duckdb.loaded ? `cells ${(row.duckdb.cell_r * 100).toFixed(1)}%` : 'failed'}\n`);
    }
  } finally {
    con.closeSync();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const byType = new Map<string, Json[]>();
  for (const r of perFile) byType.set(r.pollution, [...(byType.get(r.pollution) ?? []), r]);
  const summary: Json[] = [];
  for (const [pollution, rs] of byType) {
    const agg = (who: 'ours' | 'duckdb') => {
      const ms = rs.map((r) => r[who] as Metrics);
      const cellsE = ms.reduce((n, m) => n + m.cells_expected, 0);
      const cellsL = ms.reduce((n, m) => n + m.cells_loaded, 0);
      const cellsM = ms.reduce((n, m) => n + m.cells_matched, 0);
      return {
        loaded: ms.filter((m) => m.loaded).length / ms.length,
        header_p: mean(ms.map((m) => m.header_p)),
        header_r: mean(ms.map((m) => m.header_r)),
        record_p: mean(ms.map((m) => m.record_p)),
        record_r: mean(ms.map((m) => m.record_r)),
        cell_p: cellsL ? cellsM / cellsL : 0,
        cell_r: cellsE ? cellsM / cellsE : 0,
      };
    };
    summary.push({
      pollution,
      files: rs.length,
      dialect_only: rs[0]!.dialect_only,
      ours: agg('ours'),
      duckdb: agg('duckdb'),
      ...(rs[0]!.dialect_only ? {} : { quarantine_exact: rs.filter((r) => r.quarantine?.exact).length / rs.length }),
    });
  }
  const dialectOnly = perFile.filter((r) => r.dialect_only);
  const totals = (who: 'ours' | 'duckdb') => {
    const e = dialectOnly.reduce((n, r) => n + r[who].cells_expected, 0);
    const m = dialectOnly.reduce((n, r) => n + r[who].cells_matched, 0);
    return { cells_expected: e, cells_matched: m, cell_recall: e ? m / e : 0 };
  };
  const beats = summary.filter((s) => s.ours.cell_r > s.duckdb.cell_r || (s.ours.cell_r === 1 && s.duckdb.cell_r === 1)).length;
  const result = {
    when: new Date().toISOString(),
    files: perFile.length,
    dialect_only_cells: { ours: totals('ours'), duckdb: totals('duckdb') },
    pollution_types: summary.length,
    types_where_ours_beats_or_matches_perfect: beats,
    real_world: real,
    summary,
    files_detail: perFile,
  };
  writeResults(values.out!, result);

  const pc = (x: number) => `${(x * 100).toFixed(1)}`;
  const lines = [['pollution', 'files', 'loaded ours/duck', 'header P/R ours', 'header P/R duck', 'record P/R ours', 'record P/R duck', 'cell P/R ours', 'cell P/R duck', 'quarantine']];
  for (const s of summary) {
    lines.push([
      s.pollution,
      String(s.files),
      `${pc(s.ours.loaded)}/${pc(s.duckdb.loaded)}`,
      `${pc(s.ours.header_p)}/${pc(s.ours.header_r)}`,
      `${pc(s.duckdb.header_p)}/${pc(s.duckdb.header_r)}`,
      `${pc(s.ours.record_p)}/${pc(s.ours.record_r)}`,
      `${pc(s.duckdb.record_p)}/${pc(s.duckdb.record_r)}`,
      `${pc(s.ours.cell_p)}/${pc(s.ours.cell_r)}`,
      `${pc(s.duckdb.cell_p)}/${pc(s.duckdb.cell_r)}`,
      s.quarantine_exact === undefined ? '' : `${pc(s.quarantine_exact)}% exact`,
    ]);
  }
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  for (const l of lines) process.stdout.write(l.map((x, c) => x.padEnd(w[c]!)).join('  ') + '\n');
  const t = result.dialect_only_cells;
  process.stdout.write(
    `\ndialect-only files: ours ${pc(t.ours.cell_recall)}% of cells correct, DuckDB auto-detect ${pc(t.duckdb.cell_recall)}% · ` +
      `ours beats or matches a perfect DuckDB on ${beats}/${summary.length} pollution types\n`,
  );
  if (real) {
    const f = (x: { files: number; files_exact: number; cells_exact: number }) => `${x.files_exact}/${x.files} files exact, ${pc(x.cells_exact)}% of cells`;
    process.stdout.write(
      `real-world corpus (${real.files} files, ${real.publishers} publishers, no options): ours ${f(real.all.ours)} · DuckDB auto-detect ${f(real.all.duckdb)}\n` +
        `  messy files only: ours ${f(real.messy.ours)} · DuckDB ${f(real.messy.duckdb)}\n`,
    );
  }
  process.stdout.write(`written to ${values.out}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
