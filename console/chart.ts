/**
 * A chart of a result, when it has a shape that charts (uPlot, drawn on a canvas):
 *   date/timestamp + number(s) → line · category + number → bar · two numbers → scatter.
 * The shape is read from the column types the API reports, never guessed from values.
 */
import uPlot from 'uplot';
import { h } from './dom.js';
import { kindOf, toNumber, toSeconds } from './values.js';
import type { SqlColumn } from './types.js';

export type ChartShape = { kind: 'line'; x: number; ys: number[] } | { kind: 'bar'; x: number; y: number } | { kind: 'scatter'; x: number; y: number };

export const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b'];
const MAX_BARS = 200;
const MAX_LINES = 6;

export function chartShape(columns: SqlColumn[]): ChartShape | undefined {
  const kinds = columns.map((c) => kindOf(c.type));
  const numbers = kinds.flatMap((k, i) => (k === 'number' ? [i] : []));
  const time = kinds.findIndex((k) => k === 'date' || k === 'timestamp');
  const category = kinds.findIndex((k) => k === 'text' || k === 'bool');
  if (time >= 0 && numbers.length >= 1) return { kind: 'line', x: time, ys: numbers.slice(0, MAX_LINES) };
  if (category >= 0 && numbers.length >= 1) return { kind: 'bar', x: category, y: numbers[0]! };
  if (numbers.length >= 2) return { kind: 'scatter', x: numbers[0]!, y: numbers[1]! };
  return undefined;
}

export function describeShape(shape: ChartShape, columns: SqlColumn[]): string {
  const n = (i: number) => columns[i]!.name;
  if (shape.kind === 'line') return `Line chart of ${shape.ys.map(n).join(', ')} over ${n(shape.x)}`;
  if (shape.kind === 'bar') return `Bar chart of ${n(shape.y)} by ${n(shape.x)}`;
  return `Scatter plot of ${n(shape.y)} against ${n(shape.x)}`;
}

/** Pairs sorted by x (uPlot draws x ascending), rows with a missing x dropped. */
function sortedBy(rows: unknown[][], x: (r: unknown[]) => number | undefined, ys: number[]): uPlot.AlignedData {
  const pts = rows.flatMap((r) => {
    const xv = x(r);
    return xv === undefined ? [] : [{ x: xv, ys: ys.map((i) => toNumber(r[i]) ?? null) }];
  });
  pts.sort((a, b) => a.x - b.x);
  return [pts.map((p) => p.x), ...ys.map((_, j) => pts.map((p) => p.ys[j]!))];
}

function options(shape: ChartShape, columns: SqlColumn[], width: number, labels: string[]): uPlot.Options {
  const base = { width, height: 360, legend: { show: false }, cursor: { drag: { x: false, y: false } } };
  if (shape.kind === 'line') {
    return { ...base, scales: { x: { time: true } }, series: [{}, ...shape.ys.map((i, j) => ({ label: columns[i]!.name, stroke: COLORS[j % COLORS.length], width: 2 }))] };
  }
  if (shape.kind === 'scatter') {
    const c = COLORS[0]!;
    return {
      ...base,
      scales: { x: { time: false } },
      series: [{}, { label: columns[shape.y]!.name, stroke: c, paths: () => null, points: { show: true, size: 7, stroke: c, fill: c } }],
    };
  }
  const c = COLORS[0]!;
  const n = labels.length;
  return {
    ...base,
    scales: { x: { time: false, range: () => [-0.5, n - 0.5] }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] } },
    axes: [{ splits: () => labels.map((_, i) => i), values: (_u, splits) => splits.map((i) => labels[i] ?? '') }, {}],
    series: [{}, { label: columns[shape.y]!.name, fill: c, stroke: c, width: 0, paths: uPlot.paths.bars!({ size: [0.7, 80] }), points: { show: false } }],
  };
}

export function renderChart(into: HTMLElement, columns: SqlColumn[], rows: unknown[][], shape: ChartShape): uPlot {
  let data: uPlot.AlignedData;
  let labels: string[] = [];
  let note = '';
  if (shape.kind === 'bar') {
    const shown = rows.slice(0, MAX_BARS);
    if (rows.length > MAX_BARS) note = ` (the first ${MAX_BARS} of ${rows.length} rows)`;
    labels = shown.map((r) => (r[shape.x] === null ? 'NULL' : String(r[shape.x])));
    data = [shown.map((_, i) => i), shown.map((r) => toNumber(r[shape.y]) ?? null)];
  } else if (shape.kind === 'line') {
    data = sortedBy(rows, (r) => toSeconds(r[shape.x]), shape.ys);
  } else {
    data = sortedBy(rows, (r) => toNumber(r[shape.x]), [shape.y]);
  }
  const caption = describeShape(shape, columns) + note;
  const plot = h('div', { class: 'plot', role: 'img', 'aria-label': caption });
  const legend =
    shape.kind === 'line'
      ? h('ul', { class: 'legend' }, ...shape.ys.map((i, j) => h('li', { 'data-color': COLORS[j % COLORS.length] }, h('span', { class: `swatch swatch-${j % COLORS.length}` }), columns[i]!.name)))
      : null;
  const figure = h('figure', { class: 'chart', 'data-kind': shape.kind }, plot, h('figcaption', {}, caption), legend);
  into.replaceChildren(figure);
  const width = Math.max(320, (into.clientWidth || 800) - 8);
  return new uPlot(options(shape, columns, width, labels), data, plot);
}
