/**
 * The messy-CSV corpus: takes clean tables (generated workers, a products table with quotes and
 * commas inside values, the test fixtures) and writes one variant per pollution — and combinations
 * — with the clean table it should load as beside it.
 *
 *   npx tsx scripts/polluter.ts --out bench/data/dialect [--rows 400]
 *
 * Each variant is <id>.csv (the polluted file), <id>.expected.csv (the table, canonical CSV) and
 * <id>.meta.json ({pollution, base, dialect_only, inconsistent_lines}).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { generateWorkers, mulberry32 } from './gen-workers.js';

export interface Table {
  name: string;
  header: string[];
  rows: string[][];
}

export interface Variant {
  id: string;
  pollution: string;
  base: string;
  text: string;
  expected: Table;
  /** Only dialect problems (every row consistent). */
  dialectOnly: boolean;
  /** 1-based physical lines of the rows that do not fit (inconsistent-row variants). */
  inconsistentLines: number[];
}

export async function baseTables(rows: number): Promise<Table[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'polluter-'));
  const out: Table[] = [];
  for (const seed of [7, 11]) {
    const f = path.join(tmp, `w${seed}.csv`);
    await generateWorkers(rows, f, seed);
    const recs = parseCsv(fs.readFileSync(f), { relax_column_count: false }) as string[][];
    out.push({ name: `workers${seed}`, header: recs[0]!, rows: recs.slice(1) });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  // values with quotes, commas and apostrophes inside
  const rnd = mulberry32(3);
  const things = ['pizza', 'monitor', 'pipe', 'screen', 'board', 'cable', 'drill', 'table'];
  const adjectives = ['large', 'small', 'blue', 'refurbished', 'new', "kids'", 'pro'];
  const products: string[][] = [];
  for (let i = 1; i <= rows; i++) {
    const size = 10 + Math.floor(rnd() * 30);
    const thing = things[Math.floor(rnd() * things.length)]!;
    const adj = adjectives[Math.floor(rnd() * adjectives.length)]!;
    const name = rnd() < 0.3 ? `${size}" ${thing}, ${adj}` : rnd() < 0.5 ? `${adj} ${thing}` : `The "${thing}" (${adj})`;
    products.push([
      String(1000 + i),
      name,
      (rnd() * 500).toFixed(2),
      rnd() < 0.7 ? 'true' : 'false',
      new Date(Date.UTC(2020, 0, 1) + Math.floor(rnd() * 1500) * 86400000).toISOString().slice(0, 10),
      String(Math.floor(rnd() * 1000)),
    ]);
  }
  out.push({ name: 'products', header: ['sku', 'name', 'price', 'in_stock', 'added', 'qty'], rows: products });
  return out;
}

export interface RenderOptions {
  delimiter?: string;
  quote?: string | null;
  /** 'double' (""), or 'backslash' (\") */
  escape?: 'double' | 'backslash';
  newline?: string | (() => string);
  pad?: boolean;
  header?: string[] | null;
}

export function render(t: Table, o: RenderOptions = {}): string[] {
  const delim = o.delimiter ?? ',';
  const q = o.quote === undefined ? '"' : o.quote;
  const esc = o.escape ?? 'double';
  const cell = (v: string): string => {
    if (q === null) return v;
    const needs = v.includes(delim) || v.includes(q) || /[\r\n]/.test(v) || (o.pad && /^\s|\s$/.test(v));
    if (!needs) return v;
    const inner = esc === 'double' ? v.split(q).join(q + q) : v.replace(/\\/g, '\\\\').split(q).join('\\' + q);
    return q + inner + q;
  };
  const header = o.header === undefined ? t.header : o.header;
  const lines = [...(header ? [header] : []), ...t.rows].map((r) => r.map(cell));
  if (o.pad) {
    const widths = lines[0]!.map((_, j) => Math.max(...lines.map((l) => (l[j] ?? '').length)));
    return lines.map((l) => l.map((c, j) => c.padEnd(widths[j]!)).join(` ${delim} `));
  }
  return lines.map((l) => l.join(delim));
}

function join(lines: string[], newline: string | (() => string) = '\n', trailing = true): string {
  if (typeof newline === 'string') return lines.join(newline) + (trailing ? newline : '');
  return lines.map((l, i) => l + (i < lines.length - 1 || trailing ? newline() : '')).join('');
}

function textColumns(t: Table): number[] {
  return t.header.map((_, j) => j).filter((j) => t.rows.every((r) => !/^[+-]?\d+(\.\d+)?$/.test(r[j]!) && r[j] !== 'true' && r[j] !== 'false'));
}

/** A copy of the table with a '"' put inside ~2% of the text cells that do not match `unsafe`. */
function withStrayQuotes(base: Table, rnd: () => number, unsafe: RegExp): Table {
  const cols = textColumns(base);
  const t = { ...base, rows: base.rows.map((r) => [...r]) };
  for (const r of t.rows) {
    if (rnd() < 0.02 && cols.length) {
      const j = cols[Math.floor(rnd() * cols.length)]!;
      const c = r[j]!;
      if (c.length >= 2 && !unsafe.test(c)) r[j] = c.slice(0, 1) + '"' + c.slice(1);
    }
  }
  return t;
}

export function variants(base: Table, seed = 1): Variant[] {
  const rnd = mulberry32(seed);
  const out: Variant[] = [];
  const v = (pollution: string, text: string, expected: Table = base, extra: Partial<Variant> = {}) =>
    out.push({ id: `${base.name}-${pollution}`, pollution, base: base.name, text, expected, dialectOnly: true, inconsistentLines: [], ...extra });
  const simple = (t: Table) => ({ ...t, rows: t.rows.map((r) => r.map((c) => c.replace(/[",\r\n']/g, ' ').trim())) });

  v('clean', join(render(base)));
  for (const [name, d] of [
    ['delim_semicolon', ';'],
    ['delim_tab', '\t'],
    ['delim_pipe', '|'],
    ['delim_colon', ':'],
    ['delim_caret', '^'],
  ] as const) {
    // ':' also occurs in timestamps and text; the renderer quotes such cells
    v(name, join(render(base, { delimiter: d })));
  }
  {
    // a stray double quote inside ~2% of unquoted text cells
    const t = withStrayQuotes(base, rnd, /[",\r\n']/);
    const lines = [t.header.join(','), ...t.rows.map((r) => r.map((c) => (c.includes(',') ? `"${c.replace(/"/g, '""')}"` : c)).join(','))];
    v('stray_quote', join(lines), t);
  }
  {
    // one stray double quote at the start of an unquoted field, never closed (a hand edit)
    const cols = textColumns(base);
    const t = { ...base, rows: base.rows.map((r) => [...r]) };
    const i = Math.floor(t.rows.length / 3);
    const j = cols[0] ?? 1;
    const c = t.rows[i]![j]!.replace(/[",\r\n]/g, ' ');
    t.rows[i]![j] = '"' + (c || 'x');
    const lines = [t.header.join(','), ...t.rows.map((r, k) => (k === i ? r.join(',') : r.map((x) => (/[",\r\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x)).join(',')))];
    v('stray_quote_open', join(lines), t);
  }
  v('backslash_escape', join(render(base, { escape: 'backslash' })));
  v('single_quote', join(render(base, { quote: "'" })));
  v('padded', join(render(simple(base), { pad: true })), simple(base));
  v('preamble', join([`${base.name} export`, `Generated 2026-11-01 08:15 by ReportTool v2.1`, 'Confidential', '', ...render(base)]));
  v('footer', join([...render(base), '', `Total rows: ${base.rows.length}`, 'End of report']));
  {
    const lines = render(base);
    const withComments = ['# exported by legacy-system', '# columns: see data dictionary', lines[0]!];
    lines.slice(1).forEach((l, i) => {
      withComments.push(l);
      if (i % 97 === 50) withComments.push('# page break');
    });
    v('comments', join(withComments));
  }
  {
    const lines: string[] = [];
    render(base).forEach((l, i) => {
      lines.push(l);
      if (i > 0 && rnd() < 0.03) lines.push('');
    });
    v('blank_lines', join(lines) + '\n\n');
  }
  v('cr_only', join(render(base), '\r'));
  {
    const choices = ['\n', '\r\n', '\r'];
    v('mixed_newlines', join(render(simple(base)), () => choices[Math.floor(rnd() * 3)]!), simple(base));
  }
  {
    const k = base.header.length;
    // the shape R's write.csv gives: no name over the row names, the other names shifted right
    const fewer = base.header.slice(1);
    v('header_fewer', join(render(base, { header: fewer })), { ...base, header: ['column_1', ...fewer] });
    // a trailing delimiter on every data row: an extra, empty last column
    v(
      'header_fewer_trailing',
      join([render(base)[0]!, ...render(base, { header: null }).map((l) => l + ',')]),
      { ...base, header: [...base.header, `column_${k + 1}`], rows: base.rows.map((r) => [...r, '']) },
    );
    v('header_more', join(render(base, { header: [...base.header, 'notes'] })), base);
    v('no_header', join(render(base, { header: null })), { ...base, header: base.header.map((_, j) => `column_${j + 1}`) });
  }
  {
    const j = base.header.length > 3 ? 3 : 0;
    const one: Table = { name: base.name, header: [base.header[j]!], rows: base.rows.map((r) => [r[j]!]) };
    v('single_column', join(render(one)), one);
  }
  // combinations
  v('combo_preamble_semicolon_crlf', join(['Sales export;;', 'as of 2026-11-01', ...render(base, { delimiter: ';' })], '\r\n'));
  {
    const t = withStrayQuotes(base, rnd, /["\t\r\n']/);
    const lines = [t.header.join('\t'), ...t.rows.map((r) => r.join('\t'))];
    v('combo_stray_quote_tab', join(lines), t);
  }
  v('combo_padded_pipe_footer', join([...render(simple(base), { pad: true, delimiter: '|' }), '', '(end)']), simple(base));
  {
    const lines = render(base);
    v('combo_comments_blank_cr', join(['# header follows', lines[0]!, '', ...lines.slice(1), ''], '\r'));
  }
  v('combo_single_quote_semicolon', join(render(base, { quote: "'", delimiter: ';' })));

  // inconsistent rows (bad_rows: quarantine loads the rest and sets these aside)
  for (const kind of ['extra', 'missing'] as const) {
    const lines = render(base);
    const out2: string[] = [lines[0]!];
    const bad: number[] = [];
    const keep: string[][] = [];
    base.rows.forEach((r, i) => {
      if (i % 37 === 10) {
        const broken = kind === 'extra' ? [...r, 'EXTRA'] : r.slice(0, -1);
        out2.push(render({ ...base, rows: [broken] }, { header: null })[0]!);
        bad.push(out2.length);
      }
      out2.push(lines[i + 1]!);
      keep.push(r);
    });
    v(`inconsistent_${kind}`, join(out2), { ...base, rows: keep }, { dialectOnly: false, inconsistentLines: bad });
  }
  return out;
}

export function writeVariant(dir: string, v: Variant): void {
  fs.writeFileSync(path.join(dir, `${v.id}.csv`), v.text);
  fs.writeFileSync(path.join(dir, `${v.id}.expected.csv`), join(render(v.expected)));
  fs.writeFileSync(
    path.join(dir, `${v.id}.meta.json`),
    JSON.stringify({ pollution: v.pollution, base: v.base, dialect_only: v.dialectOnly, inconsistent_lines: v.inconsistentLines }, null, 2),
  );
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench/data/dialect' }, rows: { type: 'string', default: '400' } } });
  fs.mkdirSync(values.out!, { recursive: true });
  let n = 0;
  for (const base of await baseTables(Number(values.rows))) {
    for (const v of variants(base)) {
      writeVariant(values.out!, v);
      n++;
    }
  }
  process.stdout.write(`${n} variants in ${values.out}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
