/**
 * What an upload's status record says, made readable: on ready the rows, the detected dialect (and
 * which parts came from hints), each column's type with the reason, skipped lines, transformations
 * and rejected rows; on failure the error with its line and column, and that line from the file.
 */
import { h } from './dom.js';
import { localLine } from './local-line.js';
import type { IngestReport, Transformation, UploadStatus } from './types.js';

const CHAR_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe', ' ': 'space', ':': 'colon', '^': 'caret', '"': 'double quote', "'": 'single quote', '\\': 'backslash' };

function char(c: string | null | undefined): string {
  if (c === null || c === undefined || c === '') return 'none';
  const name = CHAR_NAMES[c];
  return name ? `${name} (${c === '\t' ? '\\t' : c})` : JSON.stringify(c);
}

function escapeText(escape: string | null, quote: string | null): string {
  if (!escape) return 'none';
  if (escape === quote) return `doubled quote (${escape}${escape})`;
  return char(escape);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function hintMark(report: IngestReport, field: string): string {
  return report.detected.from_hints.includes(field) ? ' — from your hint' : '';
}

function dialect(r: IngestReport): HTMLElement {
  const d = r.dialect;
  const c = r.confidence;
  const headerWhy =
    c.header === 'detected' && c.header_evidence
      ? `detected: column ${c.header_evidence.column}'s first value ${JSON.stringify(c.header_evidence.value)} does not look like its data`
      : c.header;
  const rows: Array<[string, string]> = [
    ['Delimiter', char(d.delimiter) + hintMark(r, 'delimiter')],
    ['Quote', char(d.quote) + hintMark(r, 'quote')],
    ['Escape', escapeText(d.escape, d.quote) + hintMark(r, 'escape')],
    ['Header', (d.header ? `yes${d.header_rows > 1 ? ` (${d.header_rows} rows joined)` : ''}${d.header_line ? `, line ${d.header_line}` : ''}` : 'no') + ` — ${headerWhy}` + hintMark(r, 'header')],
    ['Encoding', `${d.encoding}${d.bom ? ' with BOM' : ''}` + hintMark(r, 'encoding')],
    ['Line endings', d.line_ending],
    ['Lines skipped before the table', String(r.detected.skip_lines) + hintMark(r, 'skip_lines')],
    [
      'Confidence',
      `${c.level} (score ${c.score.toFixed(3)}${c.runner_up ? `; runner-up ${char(c.runner_up.delimiter)} with quote ${char(c.runner_up.quote)}, score ${c.runner_up.score.toFixed(3)}` : ''})`,
    ],
  ];
  return h('dl', { class: 'dialect' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function columns(r: IngestReport): HTMLElement {
  return h(
    'table',
    { class: 'columns' },
    h('caption', {}, 'Columns: the type chosen for each, and why'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Column'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Why'), h('th', { scope: 'col' }, 'Values'), h('th', { scope: 'col' }, 'Empty'))),
    h(
      'tbody',
      {},
      ...r.columns.map((col) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, col.name, col.renamed_from !== undefined ? h('span', { class: 'muted' }, ` (was ${JSON.stringify(col.renamed_from)})`) : null),
          h('td', { class: 'type' }, h('code', {}, col.type)),
          h(
            'td',
            { class: 'reason' },
            col.reason,
            col.rejected_types?.length
              ? h('ul', { class: 'rejected' }, ...col.rejected_types.map((t) => h('li', {}, `not ${t.type}: ${JSON.stringify(t.value)} on line ${t.line} — ${t.reason}`)))
              : null,
          ),
          h('td', { class: 'num' }, fmt(col.non_empty)),
          h('td', { class: 'num' }, fmt(col.empty)),
        ),
      ),
    ),
  );
}

function transformation(t: Transformation): string {
  switch (t.kind) {
    case 're-encoded':
      return `re-encoded from ${String(t.from)} to UTF-8`;
    case 'trimmed_padding':
      return `padding trimmed in ${fmt(Number(t.cells))} cells`;
    case 'skipped_lines':
      return `${fmt(Number(t.lines))} ${String(t.where)} line(s) skipped`;
    case 'header_rows_joined':
      return `${String(t.rows)} header rows joined`;
    case 'renamed_columns':
      return `${String(t.columns)} column(s) renamed`;
    case 'stray_quotes_read_as_text':
      return `${fmt(Number(t.count))} stray quote(s) read as text`;
    default:
      return JSON.stringify(t);
  }
}

function skipped(r: IngestReport): HTMLElement | null {
  const d = r.dialect;
  const quoted = [...(d.preamble ?? []).map((l) => ['before the table', l]), ...(d.footer ?? []).map((l) => ['after the table', l])];
  const total = d.preamble_lines + d.footer_lines + d.blank_lines + d.comment_lines;
  if (total === 0) return h('p', { class: 'skipped' }, 'Skipped lines: none.');
  return h(
    'div',
    { class: 'skipped' },
    h('p', {}, `Skipped lines: ${fmt(total)} (${fmt(d.preamble_lines)} before the table, ${fmt(d.footer_lines)} after, ${fmt(d.blank_lines)} blank, ${fmt(d.comment_lines)} comments).`),
    quoted.length ? h('ul', {}, ...quoted.map(([where, l]) => h('li', {}, `${where}: `, h('code', {}, l!)))) : null,
  );
}

export function readyReport(s: UploadStatus): HTMLElement {
  const r = s.report!;
  const m = s.dataset!;
  return h(
    'div',
    { class: 'report' },
    h(
      'p',
      { class: 'summary' },
      'Ready: ',
      h('strong', { class: 'rows' }, `${fmt(s.row_count ?? 0)} rows`),
      ' in ',
      h('a', { href: `#/catalog/${encodeURIComponent(m.name)}` }, m.name),
      ` (version ${m.version}, ${m.schema.length} columns). `,
      h('a', { href: `#/sql?q=${encodeURIComponent(`SELECT * FROM "${m.name}" LIMIT 100`)}` }, 'Query it'),
    ),
    h('h4', {}, 'Detected dialect'),
    dialect(r),
    columns(r),
    skipped(r),
    r.transformations.length ? h('div', {}, h('h4', {}, 'Transformations'), h('ul', {}, ...r.transformations.map((t) => h('li', {}, transformation(t))))) : h('p', {}, 'Transformations: none — every value is the file’s text.'),
    s.rejected_rows !== undefined
      ? h('p', { class: 'rejects' }, `Rejected rows: ${fmt(s.rejected_rows)}. `, s.rejects_url ? h('a', { href: s.rejects_url, class: 'rejects-link' }, 'Download the rejected rows (CSV)') : null)
      : null,
    r.notes.length ? h('div', {}, h('h4', {}, 'Notes'), h('ul', {}, ...r.notes.map((n) => h('li', {}, n)))) : null,
    s.timings_ms ? h('p', { class: 'muted' }, 'Timings: ' + Object.entries(s.timings_ms).map(([k, v]) => `${k} ${v} ms`).join(', ')) : null,
  );
}

export function failedReport(s: UploadStatus, file: File | undefined): HTMLElement {
  const e = s.error ?? { code: 'unknown', message: 'The upload failed.' };
  const where = e.line !== undefined ? `Line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''}` : undefined;
  const box = h('div', { class: 'error', role: 'alert' }, h('p', {}, h('strong', { class: 'code' }, e.code), ': ', e.message), where ? h('p', { class: 'where' }, where) : null);
  if (file && e.line !== undefined) {
    const line = e.line;
    void localLine(file, line).then(
      (text) => {
        if (text !== undefined) box.append(h('p', {}, `Line ${line} of ${file.name}:`), h('pre', { class: 'offending' }, h('span', { class: 'lineno' }, `${line} `), text));
      },
      () => undefined,
    );
  }
  return box;
}
