/**
 * Where the table sits in the sample, once the dialect is chosen: preamble lines before it, the
 * header (present or not, one row or several, possibly with another number of names), comment
 * lines, and footer lines after it.
 *
 * - A preamble is the lines before the header that do not belong to the table: lines with another
 *   field count, lines whose cells are empty but one (a title padded with delimiters:
 *   `Report 2024,,,,,,`), or a block separated from the table by a blank line. The header is the
 *   first row that belongs. A line as wide as the table with values in it is never skipped: it is
 *   data (the whole-file pass reports it if it does not fit).
 * - The header is present unless the first row is clearly data (header.ts).
 * - Footer lines are a few short lines after the last full record (notes, sources, "End of report").
 */
import type { Dialect } from './scan.js';
import { filled, isCommentLine, parseSample, type SampleRecord } from './sample.js';
import { columnMask, headerVerdict, isFurtherHeaderRow, looksLikeNames, type HeaderVerdict } from './header.js';
import type { CsvHints } from './dialect.js';
import { scoreRecords, type Score } from './score.js';

export interface TableLayout {
  fields: number;
  header: boolean;
  /** Header rows (more than one for a multi-row header). */
  headerRows: number;
  /** How the header decision was made. */
  headerWhy: HeaderVerdict['why'] | 'hint' | 'fewer_or_more_names';
  headerEvidence?: { column: number; value: string };
  /** Field count of the header record when it differs from `fields`. */
  headerFields: number;
  /**
   * Which columns a header with fewer names names: 'start' when the extra columns are empty in
   * every row (a trailing delimiter), 'end' otherwise (R's row names: the leading column unnamed).
   */
  headerAlign: 'start' | 'end';
  /** Byte offset where the table (header or first data record) starts, in the sample. */
  tableStart: number;
  /** Physical line (1-based) where the table starts. */
  tableLine: number;
  preambleLines: number;
  /** Byte offset where trailing footer lines start (in the text), or -1. */
  footerStart: number;
  footerLines: number;
  score: Score;
  reasons: string[];
  headerCells: string[][] | null;
  /** Candidate-type masks per column over the sample's data records (0 = text or no value). */
  sampleMasks: number[];
  sampleMaxRecord: number;
}

/** A line whose cells are empty but a few (a title or a note padded with delimiters). */
function mostlyEmpty(r: SampleRecord): boolean {
  return r.cells.length >= 2 && filled(r) <= Math.max(1, Math.floor(r.cells.length / 4));
}

export function locateTable(
  recs: SampleRecord[],
  d: Dialect,
  hints: CsvHints,
  tail: { buf: Buffer; offset: number } | undefined,
  firstLine: number,
): TableLayout {
  const reasons: string[] = [];
  const s = scoreRecords(recs, d);
  const k = s.modal;
  const rows = recs.filter((r) => !r.blank && !isCommentLine(r, d.comment));
  const full = (r: SampleRecord) => !r.broken && r.cells.length === k;
  const skipHint = hints.skip_lines !== undefined;

  // Table start: the first record with k fields and values in it after which most records have k
  // fields. With skip_lines given, the table starts right after the skipped lines.
  let startIdx = 0;
  if (!skipHint) {
    for (let i = 0; i < rows.length; i++) {
      if (!full(rows[i]!) || mostlyEmpty(rows[i]!)) continue;
      const window = rows.slice(i, i + 20);
      if (window.filter(full).length >= Math.ceil(window.length * 0.6)) {
        startIdx = i;
        break;
      }
    }
  }
  // A header with another number of names sits right before the first full record.
  let headerIdx = startIdx;
  if (startIdx > 0 && hints.header !== false) {
    const prev = rows[startIdx - 1]!;
    if (!prev.broken && prev.cells.length >= 2 && looksLikeNames(prev) && !mostlyEmpty(prev)) {
      const v = headerVerdict(rows[startIdx]!, rows.slice(startIdx + 1).filter(full));
      if (!(v.header && looksLikeNames(rows[startIdx]!))) headerIdx = startIdx - 1;
    }
  }
  // A preamble block separated from the table by a blank line ends at that line (the block began
  // with a line that does not fit the table, so it is not the table's own first rows).
  let blankBlock = false;
  if (headerIdx > 0) {
    const blank = recs.find((r) => r.blank && r.line > rows[headerIdx]!.line && r.line < (rows[headerIdx + 3]?.line ?? Infinity));
    if (blank) {
      const after = rows.findIndex((r) => r.line > blank.line);
      if (after > headerIdx && full(rows[after]!)) {
        startIdx = after;
        headerIdx = after;
        blankBlock = true;
      }
    }
  }
  // Preamble lines do not belong to the table: another field count, or empty but one cell.
  // Anything else before the start means there is no preamble (a ragged row for the full pass).
  if (headerIdx > 0 && (headerIdx > 50 || (!blankBlock && rows.slice(0, headerIdx).some((r) => full(r) && !mostlyEmpty(r))))) {
    startIdx = 0;
    headerIdx = 0;
  }
  const tableRec = rows[headerIdx];
  // header decisions look at the first 1,000 records after the candidate row (the types of the
  // whole sample still come from every record below)
  const dataFrom = (i: number, limit = 1000) => rows.slice(i, i + limit).filter(full);
  let header = true;
  let headerRows = 1;
  let headerWhy: TableLayout['headerWhy'] = 'assumed';
  let headerEvidence: TableLayout['headerEvidence'];
  let headerFields = k;
  /** Where lines about the data (skipped as preamble) begin, when there are any. */
  let metadataFrom: number | undefined;
  if (tableRec) {
    if (headerIdx !== startIdx) {
      headerFields = tableRec.cells.length;
      headerWhy = 'fewer_or_more_names';
      reasons.push(`header has ${headerFields} names for ${k} columns`);
    } else if (hints.header !== undefined) {
      header = hints.header;
      headerWhy = 'hint';
    } else {
      let v = headerVerdict(tableRec, dataFrom(headerIdx + 1));
      // a line about the data (counts and labels) before the table is a preamble line
      for (let n = 0; v.why === 'metadata' && n < 3 && rows[headerIdx + 1] && full(rows[headerIdx + 1]!); n++) {
        metadataFrom ??= headerIdx;
        reasons.push(`line ${rows[headerIdx]!.line} names columns with bare numbers such as ${JSON.stringify(v.value)}: a line about the data, skipped`);
        headerIdx++;
        startIdx = headerIdx;
        v = headerVerdict(rows[headerIdx]!, dataFrom(headerIdx + 1));
      }
      if (v.why === 'metadata') v = { header: true, why: 'assumed' };
      header = v.header;
      headerWhy = v.why;
      if (v.why === 'detected') headerEvidence = { column: v.column, value: v.value };
      if (!header) reasons.push('the first record has the types and shapes of the data in every typed column: no header');
      else if (v.why === 'assumed') reasons.push('header assumed: no column has typed values to tell a header from data');
    }
    // Rows after the first that are not data either: the header block. Its name row is the last
    // row with no empty cell; rows below it with gaps (units) and rows above it with gaps or
    // repeated labels (years over measures) join it; a full row above that spans nothing
    // ("Unit:","Percent") and everything before it are lines about the data (preamble).
    if (header && headerIdx === startIdx && hints.header === undefined) {
      // the body's types are judged below the block's reach, so the block's own rows do not blur them
      const below = rows.slice(headerIdx + 12, headerIdx + 1012).filter(full);
      let block = 1;
      while (block < 12) {
        const next = rows[headerIdx + block];
        const body = below.length >= 20 ? below : dataFrom(headerIdx + block + 1);
        if (!next || !full(next) || !isFurtherHeaderRow(next, body)) break;
        block++;
      }
      const blockRows = rows.slice(headerIdx, headerIdx + block);
      const gaps = (r: SampleRecord) => r.cells.some((c) => c.trim().length === 0);
      const spans = (r: SampleRecord) => gaps(r) || new Set(r.cells).size < r.cells.length;
      let nameRow = -1;
      for (let i = blockRows.length - 1; i >= 0; i--) if (!gaps(blockRows[i]!)) {
        nameRow = i;
        break;
      }
      let top = 0;
      if (nameRow > 0) {
        top = nameRow;
        while (top > 0 && spans(blockRows[top - 1]!)) top--;
        if (top > 0) {
          reasons.push(`${top} line(s) above the header describe the data: skipped`);
          headerIdx += top;
        }
      }
      headerRows = block - top;
      if (headerRows > 1) reasons.push(`${headerRows} header rows: their names are joined per column`);
    }
  }
  // Mostly-empty lines before the header are a preamble only when the header is a header.
  if (headerIdx > 0 && !header && headerWhy !== 'hint' && rows.slice(0, metadataFrom ?? headerIdx).some((r) => full(r))) {
    headerIdx = 0;
  }
  const tableFirst = rows[headerIdx];
  const first = tableFirst ?? recs[0];
  const preambleLines = first ? first.line - firstLine : 0;
  if (preambleLines > 0) reasons.push(`${preambleLines} preamble line(s) before the table`);

  // Footer: a few short trailing lines after the last full record.
  let footerStart = -1;
  let footerLines = 0;
  const tailRecs: SampleRecord[] = [];
  if (tail) {
    // start at a line boundary inside the tail sample
    let off = tail.buf.indexOf(10);
    if (off >= 0 && off + 1 < tail.buf.length) {
      off += 1;
      for (const r of parseSample(tail.buf.subarray(off), d, true, 1_000_000)) {
        tailRecs.push({ ...r, start: r.start + tail.offset + off, end: r.end + tail.offset + off });
      }
    }
  } else {
    tailRecs.push(...recs.filter((r) => r.line >= (first?.line ?? 0)));
  }
  // lines of delimiters only (";;;;", a spreadsheet's empty rows) hold no value: like blank lines
  const empty = (r: SampleRecord) => r.blank || (!r.broken && filled(r) === 0);
  let lastFull = -1;
  for (let i = tailRecs.length - 1; i >= 0; i--) {
    const r = tailRecs[i]!;
    if (!empty(r) && !isCommentLine(r, d.comment) && full(r)) {
      lastFull = i;
      break;
    }
  }
  if (lastFull >= 0 && k > 1) {
    const trailing = tailRecs.slice(lastFull + 1).filter((r) => !isCommentLine(r, d.comment));
    const skipped = trailing.filter((r) => !r.blank);
    if (skipped.length > 0) {
      // notes set off from the table by a blank or empty line
      const separated = trailing.findIndex((r) => !empty(r)) !== 0;
      const notes = trailing.filter((r) => !empty(r));
      const noteLike = (r: SampleRecord) =>
        !r.broken && (r.cells.length === k ? mostlyEmpty(r) && separated : separated || filled(r) <= Math.max(1, Math.ceil(k / 2)));
      if (notes.length <= 10 && notes.every(noteLike)) {
        footerStart = trailing[0]!.start;
        footerLines = skipped.length;
        reasons.push(`${footerLines} footer line(s) after the table`);
      }
    }
  }
  const dataStart = header ? headerIdx + headerRows : headerIdx;
  const sampleData = dataFrom(dataStart, Infinity);
  let headerAlign: 'start' | 'end' = 'start';
  if (header && headerFields < k) {
    const extra = k - headerFields;
    const trailingEmpty = sampleData.every((r) => r.cells.slice(k - extra).every((c) => c.length === 0));
    headerAlign = trailingEmpty ? 'start' : 'end';
  }
  const sampleMasks: number[] = [];
  for (let j = 0; j < k; j++) sampleMasks.push(columnMask(sampleData, j));
  return {
    fields: k,
    header,
    headerRows: header ? headerRows : 0,
    headerWhy,
    ...(headerEvidence ? { headerEvidence } : {}),
    headerFields,
    headerAlign,
    tableStart: first ? first.start : 0,
    tableLine: first ? first.line : firstLine,
    preambleLines,
    footerStart,
    footerLines,
    score: s,
    reasons,
    headerCells: header && tableFirst ? rows.slice(headerIdx, headerIdx + headerRows).map((r) => r.cells) : null,
    sampleMasks,
    sampleMaxRecord: recs.reduce((m, r) => Math.max(m, r.end - r.start), 0),
  };
}
