/**
 * Is the first row of a table a header? A header is present unless the first row is clearly data:
 * every column whose values share a type (BIGINT, DOUBLE, DATE, …) must have, in the first row, a
 * value of that type *and of the same shape* as the column's values (digits before and after the
 * point, an exponent) — `2021` over signed five-decimal floats is a header, not a value. Columns of
 * text are no evidence either way, so a file whose columns are all text is read with a header.
 */
import { T_ALL, T_BIGINT, T_DOUBLE, T_NUMBERISH } from './types.js';
import type { SampleRecord } from './sample.js';

export type HeaderVerdict =
  | { header: true; why: 'detected'; column: number; value: string }
  | { header: true; why: 'assumed' }
  | { header: false; why: 'absent' }
  | { header: false; why: 'metadata'; value: string };

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
  let mask = T_ALL | T_NUMBERISH;
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
  // one digit of slack either way: the first row may well hold the largest value
  if (s.intDigits < minInt - 1 || s.intDigits > maxInt + 1) return false;
  if (points === n && (s.fracDigits < minFrac - 1 || s.fracDigits > maxFrac + 1)) return false;
  return true;
}

/** Character classes of a text value: A upper, a lower, 9 digit, anything else itself. */
function classes(v: string): Set<string> {
  const out = new Set<string>();
  for (const ch of v) {
    const c = ch.charCodeAt(0);
    if (c >= 65 && c <= 90) out.add('A');
    else if (c >= 97 && c <= 122) out.add('a');
    else if (c >= 48 && c <= 57) out.add('9');
    else if (c < 128) out.add(ch);
    else out.add(/\p{Lu}/u.test(ch) ? 'A' : /\p{Ll}/u.test(ch) ? 'a' : ch);
  }
  return out;
}

/**
 * A text column of codes has a shape too: values without spaces that all have one length (`AD`,
 * `2F00`, `AAA`), or that all contain a digit and no lower-case letter (`0000..007F`). A first-row
 * value of that length (or range of lengths, with a digit) drawn from the same character classes
 * fits it. Free text gives no evidence either way (undefined).
 */
interface CodeShape {
  min: number;
  max: number;
  digits: boolean;
  classes: Set<string>;
}

function codeShape(data: SampleRecord[], j: number): CodeShape | undefined {
  let min = Infinity;
  let max = -1;
  let digits = true;
  const cls = new Set<string>();
  let n = 0;
  for (const r of data) {
    const c = r.cells[j];
    if (!c) continue;
    if (c.length > 24 || /\s/.test(c)) return undefined;
    min = Math.min(min, c.length);
    max = Math.max(max, c.length);
    if (!/\d/.test(c)) digits = false;
    for (const x of classes(c)) cls.add(x);
    n++;
  }
  if (n < 3) return undefined;
  if (min === max) return { min, max, digits: false, classes: cls };
  return digits && !cls.has('a') ? { min, max, digits, classes: cls } : undefined;
}

function fitsCode(v: string, shape: CodeShape): boolean {
  if (v.length < shape.min || v.length > shape.max) return false;
  if (shape.digits && !/\d/.test(v)) return false;
  for (const x of classes(v)) if (!shape.classes.has(x)) return false;
  return true;
}

const YEAR = /^(1[0-9]|2[0-9])\d\d$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/**
 * Numbers are plausible column names when they are years (`2021`) or an increasing run across the
 * row (`1,2,3`; `0.25,0.5,0.75`). A row that would name columns with other bare numbers — counts
 * such as `150,4,setosa,versicolor` — is a line about the data, not a header.
 */
function implausibleNumericName(first: SampleRecord): string | undefined {
  const nums = first.cells.map((c) => c.trim()).filter((c) => NUMBER.test(c));
  if (nums.length === 0) return undefined;
  if (nums.every((c) => YEAR.test(c))) return undefined;
  if (nums.length >= 2 && nums.every((c, i) => i === 0 || Number(c) > Number(nums[i - 1]))) return undefined;
  return nums.find((c) => !YEAR.test(c));
}

export function headerVerdict(first: SampleRecord, data: SampleRecord[]): HeaderVerdict {
  if (data.length === 0) return { header: true, why: 'assumed' };
  let typedCols = 0;
  let fits = 0;
  let differs: { column: number; value: string } | undefined;
  for (let j = 0; j < first.cells.length; j++) {
    const mask = columnMask(data, j);
    const code = mask ? undefined : codeShape(data, j);
    if (!mask && !code) continue;
    typedCols++;
    const h = first.cells[j]!;
    if (h.length === 0) continue; // an empty cell says nothing either way
    const fit = mask ? (first.masks[j]! & mask) !== 0 && sameShape(h, data, j, mask) : fitsCode(h, code!);
    if (!fit) {
      differs ??= { column: j, value: h };
      continue;
    }
    fits++;
  }
  if (differs) {
    const bad = implausibleNumericName(first);
    if (bad !== undefined) return { header: false, why: 'metadata', value: bad };
    return { header: true, why: 'detected', ...differs };
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
    const code = mask ? undefined : codeShape(data, j);
    if (!mask && !code) continue;
    const fitsType = mask ? (r.masks[j]! & mask) !== 0 : fitsCode(v, code!);
    if (!fitsType) {
      // fillers ("-", "N/A", "null") are no evidence either way; names have letters
      if (!/\p{L}/u.test(v) || /^(n\/?a|na|nan|null|none|missing|nil|x)$/i.test(v.trim())) continue;
      typeFails++;
    } else if (mask && !sameShape(v, data, j, mask)) shapeFails++;
    else return false;
  }
  return typeFails > 0 || shapeFails > 1;
}

/** Header-like: every cell is text (not a typed value), and most are not empty (a blank first name is common). */
export function looksLikeNames(r: SampleRecord): boolean {
  let named = 0;
  for (let j = 0; j < r.cells.length; j++) {
    if (r.cells[j]!.trim().length === 0) continue;
    if (r.masks[j] !== 0) return false;
    named++;
  }
  return named >= 2 && named >= r.cells.length / 2;
}
