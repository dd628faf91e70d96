/**
 * Dialect detection by scoring candidate dialects (delimiter × quote × escape) over samples of
 * the file — the head, and the tail for footers — with a data-consistency measure in the spirit
 * of CleverCSV (van den Burg et al., 2019): pattern consistency of field counts times the share of
 * cells that look like clean values. Then the table is located inside the sample: preamble lines
 * before it, the header (present or not, possibly with a different number of names), comment
 * lines, padding, and footer lines after it. The whole-file pass (scan.ts) validates the choice on
 * every record.
 */
import { Scanner, type Dialect } from './scan.js';
import { T_ALL, classify } from './types.js';

export const CANDIDATE_DELIMITERS = [',', '\t', ';', '|', ':', '^'];
const QUOTES = ['"', "'"];

export interface SampleRecord {
  cells: string[];
  masks: number[];
  quoted: boolean[];
  line: number;
  start: number;
  end: number;
  broken: string;
  blank: boolean;
}

export function parseSample(buf: Buffer, dialect: Dialect, final: boolean, maxRecords = 5000, firstLine = 1): SampleRecord[] {
  const out: SampleRecord[] = [];
  const scanner = new Scanner({
    dialect,
    header: false,
    keepGoing: true,
    raw: true,
    firstLine,
    maxRecords,
    sink: {
      raw(sc, b, broken, base) {
        const cells: string[] = [];
        const masks: number[] = [];
        const quoted: boolean[] = [];
        for (let j = 0; j < sc.nf; j++) {
          const s = sc.cellStart[j]!;
          const e = sc.cellEnd[j]!;
          cells.push(sc.cellText(b, j));
          masks.push(e > s && !(sc.cellFlags[j]! & 2) ? classify(b, s, e, T_ALL) : 0);
          quoted.push((sc.cellFlags[j]! & 1) === 1);
        }
        out.push({
          cells,
          masks,
          quoted,
          line: sc.recLine,
          start: base + sc.recStart,
          end: base + sc.recEnd,
          broken,
          blank: sc.nf === 1 && sc.cellEnd[0] === sc.cellStart[0] && !(sc.cellFlags[0]! & 1),
        });
      },
    },
  });
  scanner.scan(buf, 0, buf.length, 0, final);
  return out;
}

export function dialectLabel(d: Dialect): { delimiter: string; quote: string | null; escape: string | null } {
  const ch = (c: number) => (c < 0 ? null : String.fromCharCode(c));
  return { delimiter: ch(d.delimiter)!, quote: ch(d.quote), escape: ch(d.escape) };
}

function isCommentLine(r: SampleRecord, comment: number): boolean {
  return comment >= 0 && r.cells.length > 0 && r.cells[0]!.charCodeAt(0) === comment && !r.quoted[0];
}

/** Is a text cell "clean" (a plausible value rather than an artefact of a wrong dialect)? */
function cleanText(v: string, quoted: boolean, d: Dialect): boolean {
  if (quoted) return true;
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(v.length - 1);
  if (!d.trim && (first === 32 || last === 32)) return false;
  // a quote character that the dialect does not treat as quoting, at the edge of a cell
  for (const q of QUOTES) {
    const c = q.charCodeAt(0);
    if (c === d.quote) {
      if (v.includes(q)) return false; // stray quote inside an unquoted cell
    } else if (first === c || last === c) return false;
  }
  return true;
}

export interface Score {
  q: number;
  p: number;
  t: number;
  modal: number;
  records: number;
}

/** Data consistency of a parse: pattern score × type score. */
export function scoreRecords(recs: SampleRecord[], d: Dialect): Score {
  const rows = recs.filter((r) => !r.blank && !isCommentLine(r, d.comment));
  if (rows.length === 0) return { q: 0, p: 0, t: 0, modal: 0, records: 0 };
  const counts = new Map<number, number>();
  for (const r of rows) {
    const key = r.broken ? -1 : r.cells.length;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Pattern score, after CleverCSV, with each row-length pattern weighted by its share of the rows
  // (CleverCSV divides by the number of patterns, which lets a few bad rows in a small sample
  // outweigh the rows that agree). Broken-quoting records form a pattern that scores nothing.
  let p = 0;
  let modal = 0;
  let modalN = -1;
  for (const [len, n] of counts) {
    if (len > 0) p += ((n * (len - 1)) / len) * (n / rows.length);
    if (len > 0 && n > modalN) {
      modal = len;
      modalN = n;
    }
  }
  let clean = 0;
  let total = 0;
  for (const r of rows) {
    for (let j = 0; j < r.cells.length; j++) {
      total++;
      const v = r.cells[j]!;
      if (v.length === 0 || r.masks[j]! !== 0 || cleanText(v, r.quoted[j]!, d)) clean++;
    }
  }
  const t = total ? clean / total : 0;
  return { q: p * t, p, t, modal, records: rows.length };
}

/**
 * Candidates in order of preference (ties go to the earlier one). Delimiters that the sample shows
 * padded with spaces (" ,", ", ") also get trimming variants, so padded files are scored as what
 * they are rather than as cells full of spaces.
 */
export function candidateDialects(sample?: Buffer): Dialect[] {
  const out: Dialect[] = [];
  const lines = sample ? Math.max(1, sample.reduce((n, c) => (c === 10 ? n + 1 : n), 0)) : 0;
  for (const delim of CANDIDATE_DELIMITERS) {
    const dc = delim.charCodeAt(0);
    let padded = 0;
    if (sample) {
      for (let i = 1; i < sample.length - 1; i++) {
        if (sample[i] === dc && (sample[i - 1] === 32 || sample[i + 1] === 32)) padded++;
      }
    }
    const trims = sample && padded >= lines ? [false, true] : [false];
    for (const trim of trims) {
      for (const q of QUOTES) {
        const qc = q.charCodeAt(0);
        out.push({ delimiter: dc, quote: qc, escape: qc, comment: -1, trim });
        out.push({ delimiter: dc, quote: qc, escape: 92, comment: -1, trim });
      }
      out.push({ delimiter: dc, quote: -1, escape: -1, comment: -1, trim });
    }
  }
  return out;
}

export interface Detection {
  dialect: Dialect;
  /** Number of fields of a data record. */
  fields: number;
  header: boolean;
  /** Field count of the header record when it differs from `fields`. */
  headerFields: number;
  /** Byte offset where the table (header or first data record) starts, relative to the text start. */
  tableStart: number;
  /** Physical line (1-based, in the text) where the table starts. */
  tableLine: number;
  /** Preamble lines skipped before the table. */
  preambleLines: number;
  /** Byte offset where trailing footer lines start (relative to the text start), or -1. */
  footerStart: number;
  footerLines: number;
  score: Score;
  reasons: string[];
  /** Header cells of the table as parsed from the head sample (when there is a header). */
  headerCells: string[] | null;
  /** Candidate-type masks per column over the head sample's data records (0 = text or no value). */
  sampleMasks: number[];
  /** Longest record in the head sample, in bytes. */
  sampleMaxRecord: number;
}

const HEAD_RECORDS = 5000;
const SCORE_BYTES = 64 * 1024;
const SCORE_RECORDS = 500;

/**
 * Detects the dialect from the head sample (and locates a footer in the tail sample when the file
 * is larger than the head). `headFinal` says whether the head sample is the whole text.
 */
export function detect(head: Buffer, headFinal: boolean, tail?: { buf: Buffer; offset: number }): Detection {
  const reasons: string[] = [];
  // Score every candidate on a small sample, then parse a larger one with the winner.
  const small = head.length > SCORE_BYTES ? head.subarray(0, SCORE_BYTES) : head;
  const smallFinal = headFinal && small.length === head.length;
  let best: { d: Dialect; s: Score } | undefined;
  for (const d of candidateDialects(small)) {
    const s = scoreRecords(parseSample(small, d, smallFinal, SCORE_RECORDS), d);
    if (!best || s.q > best.s.q * 1.000001) best = { d, s };
  }
  let d = best!.d;
  let recs = parseSample(head, d, headFinal, HEAD_RECORDS);
  let s = scoreRecords(recs, d);

  // Single column: no delimiter splits the lines consistently.
  if (s.q === 0) {
    d = { delimiter: 44, quote: 34, escape: 34, comment: -1, trim: false };
    recs = parseSample(head, d, headFinal, HEAD_RECORDS);
    s = scoreRecords(recs, d);
    reasons.push('no delimiter splits the lines consistently: one column');
  }

  // Comment lines: lines starting with '#' that do not have the table's shape.
  const hashLines = recs.filter((r) => !r.blank && r.cells[0]?.startsWith('#') && !r.quoted[0]);
  if (hashLines.length > 0 && hashLines.every((r) => r.cells.length !== s.modal || r.cells.length === 1)) {
    const withComment = { ...d, comment: 35 };
    const recs2 = parseSample(head, withComment, headFinal, HEAD_RECORDS);
    const s2 = scoreRecords(recs2, withComment);
    if (s2.q >= s.q) {
      d = withComment;
      recs = recs2;
      s = s2;
      reasons.push("lines starting with '#' are comments");
    }
  }

  if (d.trim) reasons.push('fields are padded with spaces: trimmed');

  const k = s.modal;
  const rows = recs.filter((r) => !r.blank && !isCommentLine(r, d.comment));
  // Table start: the first record with k fields after which most records have k fields.
  let startIdx = 0;
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]!.cells.length !== k || rows[i]!.broken) continue;
    const window = rows.slice(i, i + 20);
    const ok = window.filter((r) => r.cells.length === k && !r.broken).length;
    if (ok >= Math.ceil(window.length * 0.6)) {
      startIdx = i;
      break;
    }
  }
  // A header with a different number of names sits right before the first full record.
  let headerIdx = startIdx;
  if (startIdx > 0) {
    const prev = rows[startIdx - 1]!;
    if (!prev.broken && prev.cells.length >= 2 && looksLikeHeader(prev) && !looksLikeHeader(rows[startIdx]!, rows.slice(startIdx + 1))) {
      headerIdx = startIdx - 1;
    }
  }
  // Preamble lines are short notes. A skipped line as wide as the table is data (a ragged row for the
  // full pass to report), so then there is no preamble at all; nor beyond 50 lines.
  if (headerIdx > 0 && (headerIdx > 50 || rows.slice(0, headerIdx).some((r) => r.cells.length >= k))) {
    startIdx = 0;
    headerIdx = 0;
  }
  const preambleRows = rows.slice(0, headerIdx);
  const tableRec = rows[headerIdx];
  const first = tableRec ?? recs[0];
  let header = true;
  let headerFields = k;
  if (tableRec) {
    const dataRows = rows.slice(startIdx === headerIdx ? headerIdx + 1 : startIdx).filter((r) => r.cells.length === k && !r.broken);
    if (headerIdx !== startIdx) {
      header = true;
      headerFields = tableRec.cells.length;
      reasons.push(`header has ${headerFields} names for ${k} columns`);
    } else {
      header = hasHeader(tableRec, dataRows);
      if (!header) reasons.push('first record has the types of the data: no header');
    }
  }
  const preambleLines = tableRec ? tableRec.line - 1 : 0;
  if (preambleLines > 0) reasons.push(`${preambleLines} preamble line(s) before the table`);
  void preambleRows;

  // Footer: a few short trailing lines after the last full record.
  let footerStart = -1;
  let footerLines = 0;
  const tailRecs: SampleRecord[] = [];
  if (tail) {
    // start at a line boundary inside the tail sample
    let off = tail.buf.indexOf(10);
    if (off >= 0 && off + 1 < tail.buf.length) {
      off += 1;
      const recs2 = parseSample(tail.buf.subarray(off), d, true, 1_000_000);
      for (const r of recs2) tailRecs.push({ ...r, start: r.start + tail.offset + off, end: r.end + tail.offset + off });
    }
  } else {
    tailRecs.push(...recs);
  }
  const tailRows = tailRecs.filter((r) => !r.blank && !isCommentLine(r, d.comment));
  let lastFull = -1;
  for (let i = tailRows.length - 1; i >= 0; i--) {
    if (tailRows[i]!.cells.length === k && !tailRows[i]!.broken) {
      lastFull = i;
      break;
    }
  }
  if (lastFull >= 0 && lastFull < tailRows.length - 1) {
    const trailing = tailRows.slice(lastFull + 1);
    const footerLike = trailing.length <= 5 && trailing.every((r) => r.cells.length < k && r.cells.filter((c) => c.length > 0).length <= 1 && !r.broken);
    if (footerLike && k > 1) {
      footerStart = trailing[0]!.start;
      footerLines = trailing.length;
      reasons.push(`${footerLines} footer line(s) after the table`);
    }
  }
  const sampleData = rows
    .slice(header ? headerIdx + 1 : headerIdx)
    .filter((r) => r.cells.length === k && !r.broken);
  const sampleMasks: number[] = [];
  for (let j = 0; j < k; j++) {
    let mask = T_ALL;
    let any = false;
    for (const r of sampleData) {
      if (r.cells[j]!.length === 0) continue;
      any = true;
      mask &= r.masks[j]!;
    }
    sampleMasks.push(any ? mask : 0);
  }
  return {
    headerCells: header && tableRec ? tableRec.cells : null,
    sampleMasks,
    sampleMaxRecord: recs.reduce((m, r) => Math.max(m, r.end - r.start), 0),
    dialect: d,
    fields: k,
    header,
    headerFields,
    tableStart: first ? first.start : 0,
    tableLine: first ? first.line : 1,
    preambleLines,
    footerStart,
    footerLines,
    score: s,
    reasons,
  };
}

/** Header-like: every cell is non-empty text (not a typed value). */
function looksLikeHeader(r: SampleRecord, data?: SampleRecord[]): boolean {
  if (!r.cells.every((c, j) => c.trim().length > 0 && r.masks[j] === 0)) return false;
  if (data && data.length > 0) return hasHeader(r, data);
  return true;
}

/**
 * Is the first record a header? Yes when, for a column whose data cells share a type, the first
 * record's cell does not have it. When every column is text, a header is assumed unless the first
 * record repeats values seen below it.
 */
export function hasHeader(first: SampleRecord, data: SampleRecord[]): boolean {
  if (data.length === 0) return true;
  let typedCols = 0;
  let differs = 0;
  for (let j = 0; j < first.cells.length; j++) {
    let mask = T_ALL;
    let any = false;
    for (const r of data) {
      const v = r.cells[j];
      if (v === undefined || v.length === 0) continue;
      any = true;
      mask &= r.masks[j]!;
      if (!mask) break;
    }
    if (!any || !mask) continue;
    typedCols++;
    const h = first.cells[j]!;
    if (h.length === 0) continue; // a blank cell says nothing either way
    if ((first.masks[j]! & mask) === 0) differs++;
  }
  if (typedCols > 0) return differs > 0;
  // all text: a header's names do not reappear as values in their columns
  for (let j = 0; j < first.cells.length; j++) {
    const h = first.cells[j]!;
    if (h.length === 0) continue;
    if (data.some((r) => r.cells[j] === h)) return false;
  }
  return true;
}
