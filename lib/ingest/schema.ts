/**
 * From a whole-file scan to a schema and a per-column report: column names (header names made
 * unique, blanks named, or column_1…N without a header) and the type each column gets under the
 * docs/api.md rules, with the value that ruled out each narrower type.
 */
import type { ColumnStats } from './scan.js';
import { TYPE_ORDER, typeName, whyNot } from './types.js';
import type { ColumnReport } from './report-types.js';

export type { ColumnReport } from './report-types.js';

export interface NamingResult {
  names: string[];
  notes: string[];
  renamed: Map<number, string>;
}

/**
 * Unique, non-blank column names (case-insensitive, as DuckDB identifiers are). A header with fewer
 * names than the rows have fields names the columns from the left — unless `align` is 'end': then
 * the leading columns are the unnamed ones (R's write.csv leaves out the row names' header).
 */
export function columnNames(header: string[] | null, fields: number, align: 'start' | 'end' = 'start'): NamingResult {
  const notes: string[] = [];
  const renamed = new Map<number, string>();
  const raw: string[] = [];
  const shift = header && header.length < fields && align === 'end' ? fields - header.length : 0;
  for (let j = 0; j < fields; j++) {
    if (!header) raw.push(`column_${j + 1}`);
    else {
      // names are kept byte for byte (a trailing space included); only a blank name is replaced
      const h = j < shift ? '' : (header[j - shift] ?? '');
      raw.push(h.trim().length === 0 ? '' : h);
    }
  }
  if (header && header.length < fields) {
    notes.push(
      shift
        ? `the header has ${header.length} names for ${fields} columns: they name the last ${header.length} (the first ${shift} column(s), like row names, are named column_N)`
        : `the header has ${header.length} names for ${fields} columns: the rest, empty in every row, are named column_N`,
    );
  }
  if (header && header.length > fields) {
    const extra = header.slice(fields).filter((h) => h.trim().length > 0);
    notes.push(
      extra.length
        ? `the header has ${header.length} names for ${fields} columns: ${extra.map((h) => JSON.stringify(h)).join(', ')} dropped`
        : `the header ends with ${header.length - fields} empty name(s): ignored`,
    );
  }
  const taken = new Set(raw.filter((n) => n.length > 0).map((n) => n.toLowerCase()));
  const used = new Set<string>();
  const names: string[] = [];
  raw.forEach((n, j) => {
    let name = n;
    if (name.length === 0) {
      name = `column_${j + 1}`;
      let k = 2;
      while (taken.has(name.toLowerCase()) || used.has(name.toLowerCase())) name = `column_${j + 1}_${k++}`;
      if (header && j >= shift && j - shift < header.length) {
        renamed.set(j, header[j - shift] ?? '');
        notes.push(`column ${j + 1} has a blank header name: named ${name}`);
      }
    } else if (used.has(name.toLowerCase())) {
      let k = 2;
      while (taken.has(`${n}_${k}`.toLowerCase()) || used.has(`${n}_${k}`.toLowerCase())) k++;
      name = `${n}_${k}`;
      renamed.set(j, n);
      notes.push(`duplicate header name ${JSON.stringify(n)} in column ${j + 1}: renamed ${name}`);
    }
    used.add(name.toLowerCase());
    names.push(name);
  });
  return { names, notes, renamed };
}

export function columnType(stats: ColumnStats): string {
  if (stats.nonEmpty === 0) return 'VARCHAR';
  return typeName(stats.mask);
}

export function columnReport(name: string, stats: ColumnStats, renamedFrom?: string): ColumnReport {
  const type = columnType(stats);
  const rejected: NonNullable<ColumnReport['rejected_types']> = [];
  for (const [, tn] of TYPE_ORDER) {
    if (tn === type) break;
    const ex = stats.counterExamples.find((c) => c.type === tn);
    if (ex) rejected.push({ type: tn, value: ex.value, line: ex.line, reason: whyNot(tn, ex.value) });
  }
  let reason: string;
  if (stats.nonEmpty === 0) reason = 'no non-empty values: VARCHAR keeps empty cells as empty strings';
  else if (type === 'VARCHAR') {
    const lead = rejected.find((r) => r.reason === 'leading zero');
    // the type that held out longest is the one the reader most likely expected
    const latest = rejected.reduce<(typeof rejected)[number] | undefined>((a, r) => (!a || r.line > a.line ? r : a), undefined);
    if (lead) reason = `value ${JSON.stringify(lead.value)} on line ${lead.line} has a leading zero: the column stays text so nothing changes`;
    else if (latest && rejected.every((r) => r.line === latest.line && r.value === latest.value)) {
      reason = `text values (e.g. ${JSON.stringify(latest.value)} on line ${latest.line})`;
    } else if (latest) {
      reason = `value ${JSON.stringify(latest.value)} on line ${latest.line} is not ${latest.type} (${latest.reason}): the column stays text`;
    } else reason = 'text values';
  } else {
    reason = `all ${stats.nonEmpty} non-empty values are ${type}`;
    // say why not the narrower type of the same family (BIGINT for DOUBLE, DATE for TIMESTAMP)
    const narrower = type === 'DOUBLE' ? 'BIGINT' : type === 'TIMESTAMP' ? 'DATE' : undefined;
    const r = rejected.find((x) => x.type === narrower);
    if (r) reason += `; not ${r.type}: ${JSON.stringify(r.value)} on line ${r.line} (${r.reason})`;
  }
  return {
    name,
    type,
    non_empty: stats.nonEmpty,
    empty: stats.empty,
    reason,
    ...(rejected.length ? { rejected_types: rejected } : {}),
    ...(renamedFrom !== undefined ? { renamed_from: renamedFrom } : {}),
  };
}
