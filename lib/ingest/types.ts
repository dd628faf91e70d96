/**
 * Cell type recognition for whole-file inference (docs/api.md "Ingest"). A column gets the first type
 * that every non-empty value satisfies: BIGINT → DOUBLE → BOOLEAN → DATE → TIMESTAMP → VARCHAR.
 * The checks work on raw UTF-8 bytes so the scanner never materialises strings.
 */
export const T_BIGINT = 1;
export const T_DOUBLE = 2;
const T_BOOLEAN = 4;
const T_DATE = 8;
const T_TIMESTAMP = 16;
export const T_ALL = 31;
/**
 * Detection only, never a storage type: a number written for readers — grouped digits or a decimal
 * comma (`37,899,277`, `1.234,5`, `12,5 %`). It tells a header from data; the column stays VARCHAR.
 */
export const T_NUMBERISH = 64;
const NUMBERISH = /^[+-]?[$€£¥]?(\d{1,3}([.,' \u00a0]\d{3})+|\d+)([.,]\d+)?\s?%?$/;

export function isNumberish(v: string): boolean {
  return NUMBERISH.test(v);
}

export const TYPE_ORDER: Array<[number, string]> = [
  [T_BIGINT, 'BIGINT'],
  [T_DOUBLE, 'DOUBLE'],
  [T_BOOLEAN, 'BOOLEAN'],
  [T_DATE, 'DATE'],
  [T_TIMESTAMP, 'TIMESTAMP'],
];

export function typeName(mask: number): string {
  for (const [bit, name] of TYPE_ORDER) if (mask & bit) return name;
  return 'VARCHAR';
}

const D0 = 48;
const D9 = 57;
const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

/** BIGINT: optional sign, no leading zeros except "0", fits int64. */
export function isBigint(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  let neg = false;
  if (i < e && (b[i] === 43 || b[i] === 45)) {
    neg = b[i] === 45;
    i++;
  }
  const n = e - i;
  if (n === 0 || n > 19) return false;
  if (b[i] === D0 && n > 1) return false;
  for (let j = i; j < e; j++) if (!isDigit(b[j]!)) return false;
  if (n === 19) {
    const lim = neg ? INT64_MIN_ABS : INT64_MAX;
    for (let j = 0; j < 19; j++) {
      const d = b[i + j]!;
      const l = lim.charCodeAt(j);
      if (d < l) return true;
      if (d > l) return false;
    }
  }
  return true;
}

/**
 * DOUBLE: [sign] (0 | [1-9][0-9]*)? [. digits?] [e|E [sign] digits] with at least one digit
 * before the exponent — so `.5`, `-.5` and `5.` count — and no leading zero before another digit
 * (`007` stays text). At most 15 significant digits, not counting leading zeros or zeros after the
 * point that end the fraction (`0.155100000000000` has 4): such a value survives text → double →
 * value exactly. The magnitude must fit a double.
 */
export function isDouble(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (i < e && (b[i] === 43 || b[i] === 45)) i++;
  if (i >= e) return false;
  let sig = 0; // significant digits so far, trailing fractional zeros included (removed below)
  let pendingZeros = 0; // zeros after the point not yet followed by a non-zero digit
  let firstSigPos = 0; // decimal exponent of the first significant digit, relative to the point
  let seenSig = false;
  let intDigits = 0;
  let digits = 0;
  if (b[i] === D0) {
    i++;
    digits++;
    if (i < e && isDigit(b[i]!)) return false; // leading zero
  } else {
    while (i < e && isDigit(b[i]!)) {
      seenSig = true;
      sig++;
      intDigits++;
      digits++;
      i++;
    }
    firstSigPos = intDigits - 1;
  }
  if (i < e && b[i] === 46) {
    i++;
    let zeros = 0;
    while (i < e && isDigit(b[i]!)) {
      digits++;
      const z = b[i] === D0;
      if (!seenSig) {
        if (z) zeros++;
        else {
          seenSig = true;
          firstSigPos = -(zeros + 1);
          sig = 1;
        }
      } else if (z) pendingZeros++;
      else {
        sig += pendingZeros + 1;
        pendingZeros = 0;
      }
      i++;
    }
  }
  if (digits === 0) return false;
  let exp = 0;
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    i++;
    let eneg = false;
    if (i < e && (b[i] === 43 || b[i] === 45)) {
      eneg = b[i] === 45;
      i++;
    }
    if (i >= e) return false;
    let expDigits = 0;
    while (i < e && isDigit(b[i]!)) {
      exp = exp * 10 + (b[i]! - D0);
      expDigits++;
      if (expDigits > 4) return false;
      i++;
    }
    if (eneg) exp = -exp;
  }
  if (i !== e) return false;
  if (sig > 15) return false;
  if (seenSig) {
    const mag = firstSigPos + exp;
    if (mag > 307 || mag < -307) return false;
  }
  return true;
}

/** BOOLEAN: true/false in any case. */
function isBoolean(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n === 4) {
    return (b[s]! | 32) === 116 && (b[s + 1]! | 32) === 114 && (b[s + 2]! | 32) === 117 && (b[s + 3]! | 32) === 101;
  }
  if (n === 5) {
    return (
      (b[s]! | 32) === 102 &&
      (b[s + 1]! | 32) === 97 &&
      (b[s + 2]! | 32) === 108 &&
      (b[s + 3]! | 32) === 115 &&
      (b[s + 4]! | 32) === 101
    );
  }
  return false;
}

function d2(b: Uint8Array, i: number): number {
  const x = b[i]! - D0;
  const y = b[i + 1]! - D0;
  if (x < 0 || x > 9 || y < 0 || y > 9) return -1;
  return x * 10 + y;
}

const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** YYYY-MM-DD starting at s, a valid calendar day (years 0001–9999). */
function dateAt(b: Uint8Array, s: number): boolean {
  const y1 = d2(b, s);
  const y2 = d2(b, s + 2);
  if (y1 < 0 || y2 < 0 || b[s + 4] !== 45 || b[s + 7] !== 45) return false;
  const year = y1 * 100 + y2;
  const month = d2(b, s + 5);
  const day = d2(b, s + 8);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  if (day > MONTH_DAYS[month]!) return false;
  if (month === 2 && day === 29) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    if (!leap) return false;
  }
  return true;
}

function isDate(b: Uint8Array, s: number, e: number): boolean {
  return e - s === 10 && dateAt(b, s);
}

/** YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}] */
function isTimestamp(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n < 19 || n > 26 || n === 20) return false;
  if (!dateAt(b, s)) return false;
  const sep = b[s + 10];
  if (sep !== 84 && sep !== 32) return false;
  const hh = d2(b, s + 11);
  const mm = d2(b, s + 14);
  const ss = d2(b, s + 17);
  if (b[s + 13] !== 58 || b[s + 16] !== 58) return false;
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return false;
  if (n > 19) {
    if (b[s + 19] !== 46) return false;
    for (let i = s + 20; i < e; i++) if (!isDigit(b[i]!)) return false;
  }
  return true;
}

/** The subset of `candidates` that the cell [s, e) satisfies. */
export function classify(b: Uint8Array, s: number, e: number, candidates: number): number {
  const c = b[s]!;
  let out = 0;
  if ((c >= D0 && c <= D9) || c === 43 || c === 45 || c === 46) {
    if (candidates & T_BIGINT && isBigint(b, s, e)) {
      out |= T_BIGINT;
      // an integer of at most 15 characters has at most 15 digits: a DOUBLE by isDouble's rules
      if (candidates & T_DOUBLE && (e - s <= 15 || isDouble(b, s, e))) out |= T_DOUBLE;
    } else if (candidates & T_DOUBLE && isDouble(b, s, e)) out |= T_DOUBLE;
    if (c >= D0 && c <= D9) {
      if (candidates & T_DATE && isDate(b, s, e)) out |= T_DATE;
      if (candidates & T_TIMESTAMP && isTimestamp(b, s, e)) out |= T_TIMESTAMP;
    }
    return out;
  }
  if (candidates & T_BOOLEAN && ((c | 32) === 116 || (c | 32) === 102) && isBoolean(b, s, e)) out |= T_BOOLEAN;
  return out;
}

/** Human-readable reason a value is not of a type (for the ingest report). */
export function whyNot(type: string, v: string): string {
  const lead = /^[+-]?0\d/.test(v);
  switch (type) {
    case 'BIGINT':
      if (lead) return 'leading zero';
      if (/^[+-]?\d+$/.test(v)) return 'outside the 64-bit integer range';
      if (/^[+-]?\d*\.\d+([eE][+-]?\d+)?$|^[+-]?\d+[eE][+-]?\d+$/.test(v)) return 'not an integer';
      return 'not a number';
    case 'DOUBLE':
      if (lead) return 'leading zero';
      if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return 'more than 15 significant digits or out of range (would lose precision)';
      return 'not a number';
    case 'BOOLEAN':
      return 'not true/false';
    case 'DATE':
      return /^\d{4}-\d{2}-\d{2}$/.test(v) ? 'not a valid calendar day' : 'not a YYYY-MM-DD date';
    case 'TIMESTAMP':
      return 'not a YYYY-MM-DD HH:MM:SS[.ffffff] timestamp';
    default:
      return 'not of this type';
  }
}
