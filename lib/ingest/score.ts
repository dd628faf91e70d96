/**
 * The data-consistency score of a parse (after CleverCSV, van den Burg et al., 2019): pattern
 * consistency of field counts × the share of cells that look like clean values. Two ways in, one
 * arithmetic (ScoreTally): `scoreRecords` over parsed sample records (detect.ts, table.ts), and
 * `scoreSample` straight from the scanner, which is how every candidate dialect is scored
 * (dialect.ts): it builds no record objects and decodes a cell's text only when its bytes are not
 * already a typed value — the candidates were most of the plan's time and garbage.
 * test/score.test.ts checks that the two give the same scores.
 */
import { Scanner, type Dialect, type ScannedRecord } from './scan.js';
import { isCommentLine, type SampleRecord } from './sample.js';
import { T_ALL, isNumberish } from './types.js';

export interface Score {
  /** Data consistency: p × t. */
  q: number;
  /** Pattern score (consistency of field counts, favouring more fields). */
  p: number;
  /** Share of cells that look like clean values. */
  t: number;
  /** The most frequent field count. */
  modal: number;
  /** Share of the records from the first full one on that have the modal field count. */
  body: number;
  /** Index of the first record with the modal field count. */
  firstFull: number;
  records: number;
}

/** The delimiters people use (dialect.ts tries them first); one inside a value hints at a wrong split. */
export const COMMON_DELIMITERS = [',', ';', '\t', '|'];
/** The quote characters detection knows. */
export const QUOTES = ['"', "'"];
const COMMON_CODES = COMMON_DELIMITERS.map((c) => c.charCodeAt(0));
const QUOTE_CODES = QUOTES.map((c) => c.charCodeAt(0));
/** The characters cleanText looks for beyond the first one: quotes and common delimiters. */
const MARKS = new Uint8Array(128);
for (const c of [...COMMON_CODES, ...QUOTE_CODES]) MARKS[c] = 1;

/** Is a text cell "clean" (a plausible value rather than an artefact of a wrong dialect)? */
export function cleanText(v: string, quoted: boolean, d: Dialect): boolean {
  if (quoted) return true;
  const first = v.charCodeAt(0);
  // a leading space is what splitting "a, b" on the wrong side of the padding leaves
  if (!d.trim && first === 32 && v.trim().length > 0) return false;
  // most values hold neither a quote character nor a common delimiter: nothing below applies
  let marks = false;
  for (let i = 0; i < v.length && !marks; i++) marks = MARKS[v.charCodeAt(i)] === 1;
  if (!marks) return true;
  const last = v.charCodeAt(v.length - 1);
  // a quote character that the dialect does not treat as quoting, at the edge of a cell
  for (const c of QUOTE_CODES) {
    if (c === d.quote) {
      if (v.includes(String.fromCharCode(c))) return false; // stray quote inside an unquoted cell
    } else if (first === c || last === c) return false;
  }
  // another common delimiter inside a value, not followed by a space as in prose ("a, b"), and not
  // a number with a decimal comma or grouped digits: the sign of a wrong split ("Hans;Berlin;1")
  for (const c of COMMON_CODES) {
    if (c === d.delimiter) continue;
    let at = v.indexOf(String.fromCharCode(c));
    while (at >= 0) {
      const next = v.charCodeAt(at + 1);
      if (c === 9 || (next !== 32 && !Number.isNaN(next))) {
        if (!isNumberish(v.trim())) return false;
        break;
      }
      at = v.indexOf(String.fromCharCode(c), at + 1);
    }
  }
  return true;
}

/** The records of a parse, in order (blank and comment lines left out), reduced to what the score needs. */
class ScoreTally {
  /** Per record: its field count, or -1 for broken quoting. */
  private readonly keys: number[] = [];
  private clean = 0;
  private total = 0;

  add(broken: boolean, fields: number, cleanCells: number): void {
    this.keys.push(broken ? -1 : fields);
    this.clean += cleanCells;
    this.total += fields;
  }

  score(): Score {
    const keys = this.keys;
    if (keys.length === 0) return { q: 0, p: 0, t: 0, modal: 0, body: 0, firstFull: -1, records: 0 };
    const counts = new Map<number, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    // Pattern score, after CleverCSV, with each row-length pattern weighted by its share of the rows
    // (CleverCSV divides by the number of patterns, which lets a few bad rows in a small sample
    // outweigh the rows that agree). Broken-quoting records form a pattern that scores nothing.
    let p = 0;
    let modal = 0;
    let modalN = -1;
    for (const [len, n] of counts) {
      if (len > 0) p += ((n * (len - 1)) / len) * (n / keys.length);
      if (len > 0 && (n > modalN || (n === modalN && len > modal))) {
        modal = len;
        modalN = n;
      }
    }
    const firstFull = keys.indexOf(modal);
    const from = Math.max(0, firstFull);
    let full = 0;
    for (let i = from; i < keys.length; i++) if (keys[i] === modal) full++;
    const body = full / Math.max(1, keys.length - from);
    const t = this.total ? this.clean / this.total : 0;
    return { q: p * t, p, t, modal, body, firstFull, records: keys.length };
  }
}

/** Data consistency of parsed records: pattern score × type score. */
export function scoreRecords(recs: SampleRecord[], d: Dialect): Score {
  const tally = new ScoreTally();
  for (const r of recs) {
    if (r.blank || isCommentLine(r, d.comment)) continue;
    let clean = 0;
    for (let j = 0; j < r.cells.length; j++) {
      const v = r.cells[j]!;
      if (v.length === 0 || r.masks[j]! !== 0 || cleanText(v, r.quoted[j]!, d)) clean++;
    }
    tally.add(r.broken !== '', r.cells.length, clean);
  }
  return tally.score();
}

/**
 * The score scoreRecords(parseSample(buf, d, final, maxRecords), d) gives, computed as the scanner
 * goes. A cell counts as clean as there: empty, a typed value (types.ts) or a number written for
 * readers, or clean text.
 */
export function scoreSample(buf: Buffer, d: Dialect, final: boolean, maxRecords: number): Score {
  const tally = new ScoreTally();
  const scanner = new Scanner({
    dialect: d,
    header: false,
    keepGoing: true,
    raw: true,
    maxRecords,
    sink: {
      raw(rec: ScannedRecord, broken: string) {
        const n = rec.fields;
        const q0 = rec.quoted(0);
        if (n === 1 && rec.empty(0) && !q0) return; // a blank line
        if (d.comment >= 0 && !q0 && !rec.empty(0) && rec.text(0).charCodeAt(0) === d.comment) return;
        let clean = 0;
        for (let j = 0; j < n; j++) {
          if (rec.empty(j) || rec.types(j, T_ALL) !== 0) {
            clean++;
            continue;
          }
          const v = rec.text(j);
          if (isNumberish(v) || cleanText(v, rec.quoted(j), d)) clean++;
        }
        tally.add(broken !== '', n, clean);
      },
    },
  });
  scanner.scan(buf, 0, buf.length, 0, final);
  return tally.score();
}
