/**
 * Result values as the API gives them (docs/api.md "/sql"): integers beyond 2^53−1 and DECIMALs
 * arrive as strings and are shown digit for digit, dates and timestamps as ISO-8601 text, NULL as
 * null — shown as NULL, never confused with empty text, which is shown as "".
 */
export type Kind = 'number' | 'date' | 'timestamp' | 'bool' | 'text' | 'other';

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/i;

export function kindOf(type: string): Kind {
  const t = type.trim().toUpperCase();
  if (NUMERIC.test(t)) return 'number';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (t === 'BOOLEAN') return 'bool';
  if (t === 'VARCHAR' || t.startsWith('ENUM') || t === 'UUID') return 'text';
  return 'other';
}

export interface Shown {
  text: string;
  className: string;
  title?: string;
}

export function show(v: unknown, kind: Kind): Shown {
  if (v === null || v === undefined) return { text: 'NULL', className: 'v-null', title: 'NULL' };
  if (typeof v === 'string') {
    if (v === '') return { text: '""', className: 'v-empty', title: 'empty text' };
    return { text: v, className: kind === 'number' ? 'v-num' : kind === 'text' ? 'v-text' : 'v-other' };
  }
  if (typeof v === 'number') return { text: String(v), className: 'v-num' };
  if (typeof v === 'boolean') return { text: String(v), className: 'v-bool' };
  return { text: JSON.stringify(v), className: 'v-other' };
}

/** A value as a plain number for a chart (big integers and decimals too), or undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A DATE or TIMESTAMP value as seconds since the epoch (UTC), or undefined. */
export function toSeconds(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : /[zZ]|[+-]\d{2}(:?\d{2})?$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
