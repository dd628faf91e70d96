/**
 * The SQL view: the editor, parameters and a row limit, Run (or Ctrl/Cmd-Enter); the result as a
 * virtualised grid or a chart, its truncation and spilled `result_url` made visible, downloads,
 * the API's error code and message; and the query history of this browser.
 */
import { ApiError, apiJson } from './api.js';
import { clear, h } from './dom.js';
import { createEditor, type SqlEditor } from './editor.js';
import { chartShape, renderChart } from './chart.js';
import { download, FORMATS, type QueryRequest } from './download.js';
import { renderGrid } from './grid.js';
import { forgetHistory, history, remember, type HistoryEntry } from './history.js';
import type { SqlResult } from './types.js';

export interface SqlView {
  el: HTMLElement;
  editor: SqlEditor;
  load(sql: string): void;
}

function parseParams(text: string): unknown {
  if (text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('Parameters must be JSON: an array for ? and $1, or an object for $name.');
  }
  if (v === null || typeof v !== 'object') throw new Error('Parameters must be a JSON array (for ? and $1) or object (for $name).');
  return v;
}

function errorBox(e: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, e instanceof ApiError ? h('p', {}, h('strong', { class: 'code' }, e.code), ': ', e.message) : h('p', {}, e instanceof Error ? e.message : String(e)));
}

export function sqlView(): SqlView {
  const editorHost = h('div', { class: 'editor' });
  const params = h('input', { id: 'params', type: 'text', placeholder: '[10] or {"min": 10}', spellcheck: 'false', autocomplete: 'off' });
  const limit = h('input', { id: 'limit', type: 'number', min: 0, placeholder: 'default', inputmode: 'numeric' });
  const run = h('button', { type: 'button', id: 'run', class: 'primary' }, 'Run');
  const result = h('div', { id: 'result', class: 'result' });
  const historyList = h('ol', { class: 'history-list' });
  const clearHistory = h('button', { type: 'button', class: 'link' }, 'Clear history');
  // the callback runs only on a key press, after `execute` exists
  const editor: SqlEditor = createEditor(editorHost, () => void execute());
  let running = false;

  const showHistory = (list: HistoryEntry[]) => {
    clear(
      historyList,
      ...list.map((e) => {
        const b = h('button', { type: 'button', class: 'link history-item', title: `${e.at} — ${e.outcome}` }, e.sql.length > 90 ? `${e.sql.slice(0, 90)}…` : e.sql);
        b.addEventListener('click', () => {
          editor.set(e.sql);
          params.value = e.params;
          editor.view.focus();
        });
        return h('li', {}, b, e.params ? h('span', { class: 'muted' }, ` ${e.params}`) : null);
      }),
    );
    if (!list.length) historyList.append(h('li', { class: 'muted' }, 'No queries yet.'));
  };
  clearHistory.addEventListener('click', () => {
    forgetHistory();
    showHistory([]);
  });

  const render = (req: QueryRequest, r: SqlResult) => {
    const inline = r.rows.length;
    const meta = h(
      'p',
      { class: 'meta' },
      h('strong', { class: 'row-count' }, `${r.row_count.toLocaleString('en-US')} row${r.row_count === 1 ? '' : 's'}`),
      ` · ${r.elapsed_ms} ms · query ${r.query_id}`,
    );
    const notes = h('div', { class: 'notes' });
    if (r.truncated) notes.append(h('p', { class: 'warn', 'data-note': 'truncated' }, `Truncated: the result stopped at the row limit (${r.row_count.toLocaleString('en-US')} rows). Raise the limit to see more.`));
    if (r.result_url) {
      notes.append(
        h('p', { class: 'warn', 'data-note': 'spilled' }, `The result was too large to send inline: showing the first ${inline.toLocaleString('en-US')} rows. `, h('a', { href: r.result_url, rel: 'noreferrer' }, 'Download the whole result (presigned S3 link)'), '.'),
      );
    }
    const shape = chartShape(r.columns);
    const tableBtn = h('button', { type: 'button', 'aria-pressed': 'true', id: 'show-table' }, 'Table');
    const chartBtn = h('button', { type: 'button', 'aria-pressed': 'false', id: 'show-chart', disabled: !shape }, 'Chart');
    const gridHost = h('div', { class: 'grid-host' });
    const chartHost = h('div', { class: 'chart-host', hidden: true });
    const status = h('p', { class: 'muted', 'aria-live': 'polite' });
    const downloads = h(
      'div',
      { class: 'downloads', role: 'group', 'aria-label': 'Download the result' },
      'Download: ',
      ...FORMATS.map((f) => {
        const b = h('button', { type: 'button', 'data-format': f.format }, f.label);
        b.addEventListener('click', () => {
          status.textContent = `Preparing ${f.label}…`;
          download(req, f.format).then(
            (said) => (status.textContent = said),
            (e: unknown) => status.replaceChildren(errorBox(e)),
          );
        });
        return b;
      }),
    );
    let charted = false;
    const showChart = (on: boolean) => {
      tableBtn.setAttribute('aria-pressed', String(!on));
      chartBtn.setAttribute('aria-pressed', String(on));
      gridHost.hidden = on;
      chartHost.hidden = !on;
      if (on && shape && !charted) {
        charted = true;
        renderChart(chartHost, r.columns, r.rows, shape);
      }
    };
    tableBtn.addEventListener('click', () => showChart(false));
    chartBtn.addEventListener('click', () => showChart(true));
    clear(
      result,
      meta,
      notes,
      h('div', { class: 'row' }, h('div', { class: 'switch', role: 'group', 'aria-label': 'Show the result as' }, tableBtn, chartBtn), shape ? null : h('span', { class: 'muted' }, 'No chart: a chart needs a category or date column and a number, or two numbers.'), downloads),
      status,
      gridHost,
      chartHost,
    );
    renderGrid(gridHost, r.columns, r.rows);
  };

  const execute = async () => {
    if (running) return;
    const sql = editor.text().trim();
    if (!sql) return;
    let req: QueryRequest;
    try {
      req = { sql, ...(params.value.trim() ? { params: parseParams(params.value) } : {}), ...(limit.value !== '' ? { limit: Number(limit.value) } : {}) };
    } catch (e) {
      clear(result, errorBox(e));
      return;
    }
    running = true;
    run.disabled = true;
    clear(result, h('p', { class: 'muted' }, 'Running…'));
    try {
      const r = await apiJson<SqlResult>('/sql', { method: 'POST', json: req });
      render(req, r);
      showHistory(remember({ sql, params: params.value.trim(), at: new Date().toISOString(), outcome: `${r.row_count} rows` }));
    } catch (e) {
      clear(result, errorBox(e));
      showHistory(remember({ sql, params: params.value.trim(), at: new Date().toISOString(), outcome: e instanceof ApiError ? e.code : 'error' }));
    } finally {
      running = false;
      run.disabled = false;
    }
  };

  run.addEventListener('click', () => void execute());
  showHistory(history());

  const el = h(
    'section',
    { class: 'view', 'aria-labelledby': 'sql-title' },
    h('h1', { id: 'sql-title' }, 'SQL'),
    h(
      'div',
      { class: 'sql-layout' },
      h(
        'div',
        { class: 'sql-main' },
        editorHost,
        h('div', { class: 'row controls' }, h('label', { for: 'params' }, 'Parameters (JSON)'), params, h('label', { for: 'limit' }, 'Row limit'), limit, run, h('span', { class: 'muted' }, 'Ctrl/Cmd-Enter runs the query')),
        result,
      ),
      h('aside', { class: 'history', 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'History'), historyList, clearHistory),
    ),
  );
  return { el, editor, load: (text) => editor.set(text) };
}
