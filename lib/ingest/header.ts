/**
 * Is the first row of a table a header? A header is present unless the first row is clearly data:
 * every column whose values share a type (BIGINT, DOUBLE, DATE, …) must have, in the first row, a
 * value of that type *and of the same shape* as the column's values (digits before and after the
 * point, an exponent) — `2021` over signed five-decimal floats is a header, not a value. Columns of
 * text are no evidence either way, so a file whose columns are all text is read with a header.
 */
import { T_ALL, T_BIGINT, T_DOUBLE } from './types.js';
import type { SampleRecord } from './sample.js';

export type HeaderVerdict =
  | { header: true; why: 'detected'; column: number; value: string }
  | { header: true; why: 'assumed' }
  | { header: false; why: 'absent' };

interface NumberShape {
  intDigits: number;
  fracDigits: number;
  point: boolean;
  exp: boolean;
}

function numberShape(v: string): NumberShape {
  const m = /^[+-]?(\d*)(\.(\d*))?([eE].*)?$/.exec(v);
  return { intDigits: m?.[1]?.length ?? 0, fracDigits: m?.[3]?.length ?? 0, point: m?.[2] !== undefined, exp: m?.[4] !== undefined };
}

/** The common type of a column's non-empty cells (0 when text or no value). */
export function columnMask(data: SampleRecord[], j: number): number {
  let mask = T_ALL;
  let any = false;
  for (const r of data) {
    const v = r.cells[j];
    if (v === undefined || v.length === 0) continue;
    any = true;
    mask &= r.masks[j]!;
    if (!mask) break;
  }
  return any ? mask : 0;
}

/** Does value v (of the column's type) have the shape of the column's values? */
function sameShape(v: string, data: SampleRecord[], j: number, mask: number): boolean {
  if (!(mask & (T_BIGINT | T_DOUBLE))) return true;
  const s = numberShape(v);
  let minInt = Infinity;
  let maxInt = -1;
  let minFrac = Infinity;
  let maxFrac = -1;
  let points = 0;
  let exps = 0;
  let n = 0;
  for (const r of data) {
    const c = r.cells[j];
    if (!c) continue;
    const x = numberShape(c);
    n++;
    minInt = Math.min(minInt, x.intDigits);
    maxInt = Math.max(maxInt, x.intDigits);
    minFrac = Math.min(minFrac, x.fracDigits);
    maxFrac = Math.max(maxFrac, x.fracDigits);
    if (x.point) points++;
    if (x.exp) exps++;
  }
  if (n === 0) return true;
  if (points === n && !s.point) return false;
  if (points === 0 && s.point) return false;
  if (exps === 0 && s.exp) return false;
  if (exps === n && !s.exp) return false;
  if (s.intDigits < minInt || s.intDigits > maxInt) return false;
  if (points === n && (s.fracDigits < minFrac || s.fracDigits > maxFrac)) return false;
  return true;
}

export function headerVerdict(first: SampleRecord, data: SampleRecord[]): HeaderVerdict {
  if (data.length === 0) return { header: true, why: 'assumed' };
  let typedCols = 0;
  let fits = 0;
  for (let j = 0; j < first.cells.length; j++) {
    const mask = columnMask(data, j);
    if (!mask) continue;
    typedCols++;
    const h = first.cells[j]!;
    if (h.length === 0) continue; // an empty cell says nothing either way
    if ((first.masks[j]! & mask) === 0 || !sameShape(h, data, j, mask)) return { header: true, why: 'detected', column: j, value: h };
    fits++;
  }
  if (typedCols === 0 || fits === 0) return { header: true, why: 'assumed' };
  return { header: false, why: 'absent' };
}

/**
 * Is a row that follows the header a further header row (a multi-row header: units, years over
 * measures)? Every non-empty cell in a typed column must fail that column's type or shape, with
 * at least one failing the type or two failing the shape: a data row with one "N/A" among numbers,
 * or one number of unusual length, is data.
 */
export function isFurtherHeaderRow(r: SampleRecord, data: SampleRecord[]): boolean {
  let typeFails = 0;
  let shapeFails = 0;
  for (let j = 0; j < r.cells.length; j++) {
    const v = r.cells[j]!;
    if (v.length === 0) continue;
    const mask = columnMask(data, j);
    if (!mask) continue;
    if ((r.masks[j]! & mask) === 0) {
      // fillers ("-", "N/A", "null") are data; names have letters
      if (!/\p{L}/u.test(v) || /^(n\/?a|na|nan|null|none|missing|nil|x)$/i.test(v.trim())) return false;
      typeFails++;
    } else if (!sameShape(v, data, j, mask)) shapeFails++;
    else return false;
  }
  return typeFails > 0 || shapeFails > 1;
}

/** Header-like: every cell is non-empty text (not a typed value). */
export function looksLikeNames(r: SampleRecord): boolean {
  return r.cells.every((c, j) => c.trim().length > 0 && r.masks[j] === 0);
}
