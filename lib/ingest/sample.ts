/**
 * Parsing a sample of the file (the head, or the tail for footers) into records with their cells,
 * for detection: every record whatever its shape, with each cell's text, whether it was quoted,
 * and the storage types it satisfies (types.ts).
 */
import { Scanner, type Dialect } from './scan.js';
import { T_ALL, T_NUMBERISH, isNumberish } from './types.js';

export interface SampleRecord {
  cells: string[];
  /** Storage types each cell satisfies (0 = text or empty). */
  masks: number[];
  quoted: boolean[];
  /** Physical line (1-based) where the record starts. */
  line: number;
  /** Byte offsets of the record in the parsed buffer (plus its base). */
  start: number;
  end: number;
  /** Broken quoting, if any ("unterminated quoted field", …). */
  broken: string;
  /** An empty line. */
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
      raw(rec, broken) {
        const cells: string[] = [];
        const masks: number[] = [];
        const quoted: boolean[] = [];
        for (let j = 0; j < rec.fields; j++) {
          const text = rec.text(j);
          cells.push(text);
          const m = rec.types(j, T_ALL);
          masks.push(!rec.empty(j) && isNumberish(text) ? m | T_NUMBERISH : m);
          quoted.push(rec.quoted(j));
        }
        out.push({
          cells,
          masks,
          quoted,
          line: rec.line,
          start: rec.start,
          end: rec.end,
          broken,
          blank: rec.fields === 1 && rec.empty(0) && !rec.quoted(0),
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

export function isCommentLine(r: SampleRecord, comment: number): boolean {
  return comment >= 0 && r.cells.length > 0 && r.cells[0]!.charCodeAt(0) === comment && !r.quoted[0];
}

/** Non-empty cells of a record. */
export function filled(r: SampleRecord): number {
  let n = 0;
  for (const c of r.cells) if (c.trim().length > 0) n++;
  return n;
}
