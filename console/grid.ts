/**
 * The results grid: only the rows in view are in the DOM (a fixed row height, an absolutely placed
 * window over a body as tall as all rows), so 10,000 rows scroll like 10. ARIA grid roles, with
 * aria-rowindex on the rows that are there; the grid itself takes focus and scrolls by keyboard.
 */
import { h } from './dom.js';
import { kindOf, show, type Kind } from './values.js';
import type { SqlColumn } from './types.js';

const ROW_H = 26;
const OVERSCAN = 8;
const MAX_H = 440;

function widthOf(col: SqlColumn, rows: unknown[][], i: number, kind: Kind): number {
  let longest = Math.max(col.name.length, col.type.length);
  for (let r = 0; r < Math.min(rows.length, 200); r++) longest = Math.max(longest, show(rows[r]![i], kind).text.length);
  return Math.min(Math.max(longest * 8 + 24, 64), 420);
}

export function renderGrid(into: HTMLElement, columns: SqlColumn[], rows: unknown[][]): HTMLElement {
  const kinds = columns.map((c) => kindOf(c.type));
  const widths = columns.map((c, i) => widthOf(c, rows, i, kinds[i]!));
  const total = widths.reduce((a, b) => a + b, 0);
  const grid = h('div', { class: 'grid', role: 'grid', tabindex: 0, 'aria-label': `Result: ${rows.length} rows, ${columns.length} columns`, 'aria-rowcount': rows.length + 1, 'aria-colcount': columns.length });
  grid.style.setProperty('--cols', widths.map((w) => `${w}px`).join(' '));
  grid.style.setProperty('--width', `${total}px`);
  grid.style.height = `${Math.min(MAX_H, (rows.length + 1) * ROW_H + 4)}px`;
  const head = h(
    'div',
    { class: 'g-head', role: 'rowgroup' },
    h('div', { class: 'g-row', role: 'row', 'aria-rowindex': 1 }, ...columns.map((c, i) => h('div', { role: 'columnheader', class: `g-cell ${kinds[i] === 'number' ? 'num' : ''}`, title: c.type, 'aria-colindex': i + 1 }, h('span', { class: 'g-name' }, c.name), h('span', { class: 'g-type' }, c.type)))),
  );
  const body = h('div', { class: 'g-body', role: 'rowgroup' });
  body.style.height = `${rows.length * ROW_H}px`;
  grid.append(head, body);

  let shown = [-1, -1];
  const paint = () => {
    const first = Math.max(0, Math.floor(grid.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((grid.scrollTop + (grid.clientHeight || MAX_H)) / ROW_H) + OVERSCAN);
    if (first === shown[0] && last === shown[1]) return;
    shown = [first, last];
    const frag = document.createDocumentFragment();
    for (let r = first; r < last; r++) {
      const row = h('div', { class: 'g-row', role: 'row', 'aria-rowindex': r + 2 });
      row.style.top = `${r * ROW_H}px`;
      const values = rows[r]!;
      for (let c = 0; c < columns.length; c++) {
        const s = show(values[c], kinds[c]!);
        row.append(h('div', { role: 'gridcell', class: `g-cell ${s.className}`, title: s.title, 'aria-colindex': c + 1 }, s.text));
      }
      frag.append(row);
    }
    body.replaceChildren(frag);
  };
  grid.addEventListener('scroll', () => requestAnimationFrame(paint), { passive: true });
  grid.addEventListener('keydown', (e) => {
    const page = grid.clientHeight - ROW_H * 2;
    const moves: Record<string, number> = { ArrowDown: ROW_H, ArrowUp: -ROW_H, PageDown: page, PageUp: -page };
    if (e.key in moves) {
      grid.scrollTop += moves[e.key]!;
      e.preventDefault();
    } else if (e.key === 'Home' || e.key === 'End') {
      grid.scrollTop = e.key === 'Home' ? 0 : grid.scrollHeight;
      e.preventDefault();
    }
  });
  into.replaceChildren(grid);
  paint();
  return grid;
}
