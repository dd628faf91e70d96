/**
 * Value rules (encode.ts, docs/api.md) applied in JS to values DuckDB hands over, for wide results
 * (wide-rows.ts). Only types whose text JS can produce exactly as DuckDB does are here — the types
 * of every ingested column (booleans, integers, text, DOUBLE, dates, timestamps) plus DECIMAL; a
 * result with any other type is encoded by DuckDB (encode.ts). Not FLOAT: DuckDB does not print it
 * with the shortest digits that read back (757219968 stays 757219968.0, not 757220000.0). test/query-unit.test.ts
 * compares both encodings value for value, edge cases and random values of every type here.
 */
import {
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBTimestampValue,
} from '@duckdb/node-api';
import { SMALL_SCALARS, jsonString } from './encode.js';

/** A non-NULL value's JSON text, or its CSV text before quoting. */
export type ValueText = (v: DuckDBValue) => string;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Integers JS gets as bigint: their text is exact; JSON numbers only up to 2^53−1. */
const WIDE_INTEGERS: ReadonlySet<DuckDBTypeId> = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT]);
const DATE_INFINITY = 2 ** 31 - 1;
const TIMESTAMP_INFINITY = 2n ** 63n - 1n;

/** Shortest round-trip digits of |v| (finite, non-zero) and the decimal exponent of the first. */
function digitsOf(v: number): { digits: string; exp: number } {
  const [m, e] = Math.abs(v).toExponential().split('e');
  return { digits: m!.replace('.', ''), exp: Number(e) };
}

function positional(digits: string, exp: number): string {
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  return `${int}.${digits.slice(exp + 1) || '0'}`;
}

function mantissa(digits: string): string {
  return digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
}

/** How DuckDB writes a DOUBLE in one of its two forms. */
interface NumberForm {
  /** Exponents (of the first digit) written positionally: min < exp < max, i.e. from `from` up to below `below`. */
  min: number;
  max: number;
  from: number;
  below: number;
  nan: string;
  inf: string;
  negInf: string;
  /** The exponent of the scientific form: `e+16`/`e-05` (VARCHAR) or `e21`/`e-7` (JSON). */
  exponent: (exp: number) => string;
}

/** `::VARCHAR`: positional for exponents -4…15, else `1.5e+16`, `1e-05`. */
const VARCHAR_FORM: NumberForm = { min: -5, max: 16, from: 1e-4, below: 1e16, nan: 'nan', inf: 'inf', negInf: '-inf', exponent: (e) => `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}` };
/** `to_json` (yyjson): positional for exponents -6…20, else `1.5e21`, `1e-7`; NaN and infinities as our strings. */
const JSON_FORM: NumberForm = { min: -7, max: 21, from: 1e-6, below: 1e21, nan: '"nan"', inf: '"inf"', negInf: '"-inf"', exponent: (e) => String(e) };

function numberText(v: number, f: NumberForm): string {
  if (Number.isNaN(v)) return f.nan;
  if (!Number.isFinite(v)) return v > 0 ? f.inf : f.negInf;
  const a = Math.abs(v);
  // within both JavaScript's positional range and DuckDB's, JavaScript's own text has the same shortest digits
  if (a >= f.from && a < f.below) return Number.isInteger(v) ? `${v}.0` : String(v);
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  if (v === 0) return `${sign}0.0`;
  const { digits, exp } = digitsOf(v);
  if (exp > f.min && exp < f.max) return sign + positional(digits, exp);
  return `${sign}${mantissa(digits)}e${f.exponent(exp)}`;
}

const MICROS_PER_DAY = 86_400_000_000n;

/** DuckDB's text of a day number: proleptic Gregorian, 4-digit years at least, `(BC)` for year 0 and before. */
function dayText(days: number): string {
  // civil-from-days (H. Hinnant): exact for every day a DATE holds
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const text = `${String(y > 0 ? y : 1 - y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  return y > 0 ? text : `${text} (BC)`;
}

function dateText(v: DuckDBValue): string {
  const { days } = v as DuckDBDateValue;
  if (Math.abs(days) === DATE_INFINITY) return days > 0 ? 'infinity' : '-infinity';
  return dayText(days);
}

/** DuckDB's text of a TIMESTAMP (microseconds): `date time[.fraction]`, trailing zeros of the fraction dropped. */
function timestampText(v: DuckDBValue): string {
  const { micros } = v as DuckDBTimestampValue;
  if (micros === TIMESTAMP_INFINITY || micros === -TIMESTAMP_INFINITY) return micros > 0n ? 'infinity' : '-infinity';
  let days = micros / MICROS_PER_DAY;
  let rem = micros % MICROS_PER_DAY;
  if (rem < 0n) {
    days -= 1n;
    rem += MICROS_PER_DAY;
  }
  const t = Number(rem);
  const two = (n: number) => String(n).padStart(2, '0');
  const frac = String(t % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  const time = `${two(Math.floor(t / 3_600_000_000))}:${two(Math.floor(t / 60_000_000) % 60)}:${two(Math.floor(t / 1_000_000) % 60)}`;
  return `${dayText(Number(days))} ${time}${frac ? `.${frac}` : ''}`;
}

/** The text form of values of type `t` (CSV cells, and the JSON strings of dates and decimals), if JS has it exactly. */
export function textOf(t: DuckDBType): ValueText | undefined {
  if (SMALL_SCALARS.has(t.typeId) || WIDE_INTEGERS.has(t.typeId)) return String;
  switch (t.typeId) {
    case DuckDBTypeId.VARCHAR:
      return String;
    case DuckDBTypeId.DOUBLE:
      return (v) => numberText(v as number, VARCHAR_FORM);
    case DuckDBTypeId.DATE:
      return dateText;
    case DuckDBTypeId.TIMESTAMP:
      return (v) => timestampText(v).replaceAll(' ', 'T');
    case DuckDBTypeId.DECIMAL:
      return (v) => (v as DuckDBDecimalValue).toString();
    default:
      return undefined;
  }
}

/** The JSON text of values of type `t`, if JS has it exactly. */
export function jsonOf(t: DuckDBType): ValueText | undefined {
  if (SMALL_SCALARS.has(t.typeId)) return String;
  if (WIDE_INTEGERS.has(t.typeId)) {
    return (v) => {
      const i = v as bigint;
      return i <= MAX_SAFE && i >= -MAX_SAFE ? String(i) : `"${i}"`;
    };
  }
  switch (t.typeId) {
    case DuckDBTypeId.VARCHAR:
      return (v) => jsonString(v as string);
    case DuckDBTypeId.DOUBLE:
      return (v) => numberText(v as number, JSON_FORM);
    default: {
      const text = textOf(t);
      return text && ((v) => jsonString(text(v)));
    }
  }
}
