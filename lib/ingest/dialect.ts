/**
 * Choosing the dialect (delimiter × quote × escape, padding) of a file from a sample of its head.
 *
 * "Plain files read plainly": every candidate is scored with a data-consistency measure after
 * CleverCSV (van den Burg et al., 2019) — pattern consistency of field counts × the share of cells
 * that look like clean values — but with priors a person would agree with. The common delimiters
 * (`,` `;` tab `|`) are tried first, and a rare one (`:` `^`) may win only when no common delimiter
 * gives a consistent table at all: clock times such as `01:00:00` are values, not a reason to split.
 * Trimming variants are offered only when padding is systematic (every delimiter of ~every line
 * has a space beside it, as in aligned exports or `"a" , "b"`), so a value's own trailing space is
 * kept. The winner, its score and the runner-up are reported so that a close call is visible.
 * Where the table sits in the sample (preamble, header, footer) is table.ts's job.
 */
import type { Dialect } from './scan.js';
import { COMMON_DELIMITERS, QUOTES, scoreSample, type Score } from './score.js';
import type { CsvHints } from './report-types.js';

export type { CsvHints } from './report-types.js';
export type { Score } from './score.js';

const RARE_DELIMITERS = [':', '^', ' '];
const CANDIDATE_DELIMITERS = [...COMMON_DELIMITERS, ...RARE_DELIMITERS];
const COMMON_CODES = COMMON_DELIMITERS.map((c) => c.charCodeAt(0));

/**
 * Is a delimiter's padding systematic in the sample — a space beside every occurrence on at least
 * 90 % of the lines that have one? Only then is trimming a candidate.
 */
function systematicPadding(sample: Buffer, delim: number): boolean {
  let lines = 0;
  let padded = 0;
  let lineOk = true;
  let seen = false;
  let i = 0;
  const n = Math.min(sample.length, 256 * 1024);
  for (; i < n; i++) {
    const c = sample[i]!;
    if (c === 10 || c === 13) {
      if (seen) {
        lines++;
        if (lineOk) padded++;
      }
      lineOk = true;
      seen = false;
      if (lines >= 500) break;
      continue;
    }
    if (c === delim) {
      seen = true;
      if (sample[i - 1] !== 32 && sample[i + 1] !== 32) lineOk = false;
    }
  }
  if (seen) {
    lines++;
    if (lineOk) padded++;
  }
  return lines >= 2 && padded >= lines * 0.9;
}

/**
 * Candidates in order of preference (ties go to the earlier one), restricted by the hints. Variants
 * that would parse the sample exactly like an earlier one are left out: a delimiter that does not
 * occur, a quote character that does not occur (but `"` is always tried), a backslash escape
 * without a backslash, "no quoting" when no quote character occurs.
 */
function candidateDialects(sample: Buffer, hints: CsvHints = {}): Dialect[] {
  const out: Dialect[] = [];
  const scan = sample.length > 256 * 1024 ? sample.subarray(0, 256 * 1024) : sample;
  // which byte values occur (a table, not a Set: this runs over up to 256 KiB per upload)
  const seen = new Uint8Array(256);
  for (let i = 0; i < scan.length; i++) seen[scan[i]!] = 1;
  const present = { has: (c: number) => seen[c] === 1 };
  const delims = hints.delimiter !== undefined ? [hints.delimiter] : CANDIDATE_DELIMITERS.filter((d) => present.has(d.charCodeAt(0)));
  if (delims.length === 0) delims.push(',');
  const quotes =
    hints.quote !== undefined ? (hints.quote === '' ? [] : [hints.quote]) : QUOTES.filter((q) => q === '"' || present.has(q.charCodeAt(0)));
  const anyQuote = QUOTES.some((q) => present.has(q.charCodeAt(0)));
  const noQuote = hints.quote === '' || (hints.quote === undefined && anyQuote);
  const backslash = present.has(92);
  for (const delim of delims) {
    const dc = delim.charCodeAt(0);
    const trims = dc !== 32 && systematicPadding(sample, dc) ? [false, true] : [false];
    for (const trim of trims) {
      for (const q of quotes) {
        const qc = q.charCodeAt(0);
        if (qc === dc) continue;
        const escapes = hints.escape !== undefined ? [hints.escape.charCodeAt(0)] : backslash ? [qc, 92] : [qc];
        for (const esc of escapes) out.push({ delimiter: dc, quote: qc, escape: esc, comment: -1, trim });
      }
      if (noQuote || quotes.length === 0) out.push({ delimiter: dc, quote: -1, escape: -1, comment: -1, trim });
    }
  }
  return out;
}

export interface DialectChoice {
  dialect: Dialect;
  score: Score;
  /** The best candidate with another delimiter, when one gives a table at all. */
  runnerUp?: { dialect: Dialect; score: Score };
  confidence: 'high' | 'low';
  reasons: string[];
}

const SCORE_RECORDS = 1000;

function isCommon(d: Dialect): boolean {
  return COMMON_CODES.includes(d.delimiter);
}

function consistent(s: Score, d?: Dialect): boolean {
  // a space splits prose too: it must give every record (the first included) one field count
  if (d?.delimiter === 32) return s.modal >= 2 && s.body === 1 && s.firstFull === 0;
  return s.modal >= 2 && s.body >= 0.8;
}

/**
 * Scores every candidate on the sample and picks one: the best common-delimiter candidate when any
 * of them gives a consistent table, else the best of all.
 */
export function chooseDialect(sample: Buffer, final: boolean, hints: CsvHints = {}): DialectChoice {
  const reasons: string[] = [];
  const scored = candidateDialects(sample, hints).map((d) => ({ d, s: scoreSample(sample, d, final, SCORE_RECORDS) }));
  const commonOk = scored.some((c) => isCommon(c.d) && consistent(c.s));
  const pool = commonOk ? scored.filter((c) => isCommon(c.d)) : scored.filter((c) => isCommon(c.d) || consistent(c.s, c.d));
  let best: (typeof scored)[number] | undefined;
  for (const c of pool) if (!best || c.s.q > best.s.q * 1.000001) best = c;
  if (!best || best.s.q === 0) {
    // No delimiter splits the lines consistently: one column.
    const d: Dialect = {
      delimiter: (hints.delimiter ?? ',').charCodeAt(0),
      quote: hints.quote === '' ? -1 : (hints.quote ?? '"').charCodeAt(0),
      escape: hints.quote === '' ? -1 : (hints.escape ?? hints.quote ?? '"').charCodeAt(0),
      comment: -1,
      trim: false,
    };
    reasons.push('no delimiter splits the lines consistently: one column');
    return { dialect: d, score: scoreSample(sample, d, final, SCORE_RECORDS), confidence: 'high', reasons };
  }
  if (!isCommon(best.d) && hints.delimiter === undefined) {
    reasons.push(`no common delimiter (, ; tab |) gives a consistent table: ${JSON.stringify(String.fromCharCode(best.d.delimiter))} does`);
  }
  let runnerUp: (typeof scored)[number] | undefined;
  for (const c of pool) {
    if (c.d.delimiter === best.d.delimiter || !consistent(c.s)) continue;
    if (!runnerUp || c.s.q > runnerUp.s.q * 1.000001) runnerUp = c;
  }
  const close = runnerUp !== undefined && runnerUp.s.q >= best.s.q * 0.9;
  return {
    dialect: best.d,
    score: best.s,
    ...(runnerUp ? { runnerUp: { dialect: runnerUp.d, score: runnerUp.s } } : {}),
    confidence: close || !consistent(best.s) ? 'low' : 'high',
    reasons,
  };
}
