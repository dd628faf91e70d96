/**
 * The real-world corpus (test/corpus/real): its truth entries, the table an independent reader
 * (csv-parse, told the true dialect) makes of each file, and a cell-by-cell comparison with what
 * the lakehouse loaded. Used by test/corpus.test.ts and by `npm run bench:dialect`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

export const CORPUS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'corpus', 'real');

export interface TruthEntry {
  file: string;
  publisher: string;
  messy: boolean;
  delimiter: string;
  quote: string;
  escape: string;
  header: boolean;
  skip_lines: number;
  header_lines: number;
  footer_lines: number;
  encoding: string;
  notes?: string;
  comment?: string;
  ragged?: boolean;
  /** Spaces around fields are not significant (the format says so). */
  trim?: boolean;
  /** A header with fewer names than fields names the last columns (R's write.csv). */
  header_align?: 'start' | 'end';
}

export function loadTruth(dir = CORPUS_DIR): TruthEntry[] {
  return JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as TruthEntry[];
}

export interface Table {
  names: string[];
  rows: string[][];
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' && text[i + 1] === '\n') i++;
    if (c === '\n' || c === '\r') starts.push(i + 1);
  }
  if (starts[starts.length - 1] === text.length) starts.pop();
  return starts;
}

/** Column names by the contract's rules: blank → column_N, duplicates (any case) → name_2, … */
export function contractNames(header: string[] | null, fields: number, align: 'start' | 'end' = 'start'): string[] {
  const shift = header && align === 'end' ? Math.max(0, fields - header.length) : 0;
  const raw = Array.from({ length: fields }, (_, j) => (header ? (j < shift ? '' : (header[j - shift] ?? '')) : `column_${j + 1}`));
  const blankless = raw.map((n) => (n.trim().length === 0 ? '' : n));
  const taken = new Set(blankless.filter((n) => n).map((n) => n.toLowerCase()));
  const used = new Set<string>();
  return blankless.map((n, j) => {
    let name = n;
    if (!name) {
      name = `column_${j + 1}`;
      let k = 2;
      while (taken.has(name.toLowerCase()) || used.has(name.toLowerCase())) name = `column_${j + 1}_${k++}`;
    } else if (used.has(name.toLowerCase())) {
      let k = 2;
      while (taken.has(`${n}_${k}`.toLowerCase()) || used.has(`${n}_${k}`.toLowerCase())) k++;
      name = `${n}_${k}`;
    }
    used.add(name.toLowerCase());
    return name;
  });
}

/** The table an independent reader makes of the file when told its true dialect. */
export function expectedTable(t: TruthEntry, dir = CORPUS_DIR): Table {
  const bytes = fs.readFileSync(path.join(dir, t.file));
  const text = new TextDecoder(t.encoding === 'latin-1' ? 'windows-1252' : t.encoding).decode(bytes);
  const starts = lineStarts(text);
  const last = starts.length - t.footer_lines;
  const body = text.slice(starts[t.skip_lines], last < starts.length ? starts[last] : text.length);
  const recs = parse(body, {
    delimiter: t.delimiter,
    quote: t.quote === '' ? false : t.quote,
    escape: t.escape === '' ? null : t.escape,
    relax_column_count: t.header_align === 'end',
    relax_quotes: false,
    skip_empty_lines: true,
    trim: !!t.trim,
    ...(t.comment ? { comment: t.comment, comment_no_infix: true } : {}),
  }) as string[][];
  const hdr = t.header ? recs.slice(0, t.header_lines) : [];
  const fields = recs[hdr.length]!.length;
  if (recs.slice(hdr.length).some((r) => r.length !== fields)) throw new Error(`${t.file}: rows of another width`);
  if (!t.header) return { names: contractNames(null, fields), rows: recs };
  const joined = Array.from({ length: fields }, (_, j) =>
    hdr.length === 1 ? (hdr[0]![j] ?? '') : hdr.map((r) => r[j] ?? '').filter((c) => c.trim().length > 0).join(' '),
  );
  return { names: contractNames(hdr.length === 1 ? hdr[0]! : joined, fields, t.header_align), rows: recs.slice(t.header_lines) };
}

export interface Loaded {
  columns: Array<{ name: string; type: string }>;
  /** Rows as /sql returns them in JSON (typed values). */
  rows: unknown[][];
}

export interface Comparison {
  exact: boolean;
  namesOk: boolean;
  rowsExpected: number;
  rowsLoaded: number;
  cellsExpected: number;
  cellsMatched: number;
  firstMismatch?: string;
}

const TS = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/;

/** Does a loaded value equal the source text under its column's type (the text itself for VARCHAR)? */
export function cellMatches(raw: string, got: unknown, type: string): boolean {
  if (type === 'VARCHAR') return got === raw;
  if (raw === '') return got === null;
  if (got === null || got === undefined) return false;
  switch (type) {
    case 'BIGINT':
      return /^[+-]?\d+$/.test(raw) && BigInt(raw) === BigInt(String(got));
    case 'DOUBLE':
      return Number(raw) === Number(got);
    case 'BOOLEAN':
      return raw.toLowerCase() === String(got);
    case 'DATE':
      return raw === got;
    case 'TIMESTAMP': {
      const a = TS.exec(raw);
      const b = TS.exec(String(got));
      return !!a && !!b && a[1] === b[1] && a[2] === b[2] && (a[3] ?? '').replace(/0+$/, '') === (b[3] ?? '').replace(/0+$/, '');
    }
    default:
      return String(got) === raw;
  }
}

/** Compares names, row count (in order) and every cell. */
export function compareTables(exp: Table, got: Loaded): Comparison {
  const names = got.columns.map((c) => c.name);
  const namesOk = JSON.stringify(names) === JSON.stringify(exp.names);
  let matched = 0;
  let first: string | undefined;
  const cellsExpected = exp.rows.length * exp.names.length;
  for (let i = 0; i < exp.rows.length; i++) {
    const e = exp.rows[i]!;
    const g = got.rows[i];
    for (let j = 0; j < exp.names.length; j++) {
      const col = got.columns[j];
      if (g && col && j < g.length && cellMatches(e[j] ?? '', g[j], col.type)) matched++;
      else first ??= `row ${i + 1}, column ${j + 1} (${exp.names[j]}): expected ${JSON.stringify(e[j])}, got ${JSON.stringify(g?.[j])}${col ? ` as ${col.type}` : ''}`;
    }
  }
  if (!namesOk) first ??= `names: expected ${JSON.stringify(exp.names.slice(0, 6))}…, got ${JSON.stringify(names.slice(0, 6))}…`;
  if (got.rows.length !== exp.rows.length) first ??= `rows: expected ${exp.rows.length}, got ${got.rows.length}`;
  const exact = namesOk && got.rows.length === exp.rows.length && matched === cellsExpected && got.columns.length === exp.names.length;
  return { exact, namesOk, rowsExpected: exp.rows.length, rowsLoaded: got.rows.length, cellsExpected, cellsMatched: matched, ...(first ? { firstMismatch: first } : {}) };
}
