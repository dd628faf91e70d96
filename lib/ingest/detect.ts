/**
 * Detection from samples of the text: the dialect (dialect.ts), comment lines, then where the
 * table sits (table.ts). CSV hints from the upload override the matching decisions. The result
 * says how sure the detector was: the runner-up dialect and its score when they are close, and
 * how the header was decided.
 */
import type { Dialect } from './scan.js';
import { chooseDialect, type CsvHints } from './dialect.js';
import { scoreRecords, type Score } from './score.js';
import { dialectLabel, parseSample } from './sample.js';
import { locateTable, type TableLayout } from './table.js';

export type { CsvHints };

export interface Confidence {
  level: 'high' | 'low';
  score: number;
  runner_up?: { delimiter: string; quote: string | null; escape: string | null; score: number };
  header: TableLayout['headerWhy'];
  header_evidence?: { column: number; value: string };
  from_hints: string[];
}

export interface Detection extends Omit<TableLayout, 'headerCells'> {
  dialect: Dialect;
  score: Score;
  /** The header's rows as parsed from the head sample (when there is a header). */
  headerCells: string[][] | null;
  confidence: Confidence;
}

const HEAD_RECORDS = 5000;
const SCORE_BYTES = 256 * 1024;
const SCORE_LINES = 30;

/** The first `bytes` bytes, extended so that the sample holds at least `lines` line breaks. */
function scoringSample(head: Buffer, bytes: number, lines: number): Buffer {
  if (head.length <= bytes) return head;
  let n = 0;
  let i = 0;
  for (; i < head.length && n < lines; i++) if (head[i] === 10 || head[i] === 13) n++;
  return head.subarray(0, Math.max(bytes, i));
}

/**
 * Detects the dialect and the table from the head sample (and the footer from the tail sample when
 * the file is larger than the head). `headFinal` says whether the head sample is the whole text;
 * `firstLine` is the physical line number of the head's first byte (after skipped lines).
 */
export function detect(
  head: Buffer,
  headFinal: boolean,
  tail?: { buf: Buffer; offset: number },
  hints: CsvHints = {},
  firstLine = 1,
): Detection {
  const small = scoringSample(head, SCORE_BYTES, SCORE_LINES);
  const choice = chooseDialect(small, headFinal && small.length === head.length, hints);
  let d = choice.dialect;
  const reasons = [...choice.reasons];
  let recs = parseSample(head, d, headFinal, HEAD_RECORDS, firstLine);
  let s = scoreRecords(recs, d);

  // Comment lines: lines starting with '#' that do not have the table's shape.
  const hashLines = recs.filter((r) => !r.blank && r.cells[0]?.startsWith('#') && !r.quoted[0]);
  // (DuckDB's rule: accepted when at least 60 % of them do not have the table's field count)
  const offShape = hashLines.filter((r) => r.cells.length !== s.modal || r.cells.length === 1).length;
  if (hashLines.length > 0 && offShape >= hashLines.length * 0.6) {
    const withComment = { ...d, comment: 35 };
    const recs2 = parseSample(head, withComment, headFinal, HEAD_RECORDS, firstLine);
    const s2 = scoreRecords(recs2, withComment);
    if (s2.q >= s.q) {
      d = withComment;
      recs = recs2;
      s = s2;
      reasons.push("lines starting with '#' are comments");
    }
  }
  if (d.trim) reasons.push('fields are padded with spaces around every delimiter: the padding is trimmed');
  const layout = locateTable(recs, d, hints, tail, firstLine);
  const fromHints = Object.entries(hints)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  const confidence: Confidence = {
    level: choice.confidence === 'low' && hints.delimiter === undefined ? 'low' : 'high',
    score: round(choice.score.q / Math.max(1, choice.score.records)),
    ...(choice.runnerUp
      ? { runner_up: { ...dialectLabel(choice.runnerUp.dialect), score: round(choice.runnerUp.score.q / Math.max(1, choice.runnerUp.score.records)) } }
      : {}),
    header: layout.headerWhy,
    // columns are counted from 1 in the report, as in error.column
    ...(layout.headerEvidence ? { header_evidence: { column: layout.headerEvidence.column + 1, value: layout.headerEvidence.value } } : {}),
    from_hints: fromHints,
  };
  return { ...layout, dialect: d, score: s, reasons: [...reasons, ...layout.reasons], confidence };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
