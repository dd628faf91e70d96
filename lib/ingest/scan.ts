/**
 * The whole-file pass: parses every record of the table with a chosen dialect, checks that each
 * has the expected number of fields, and narrows each column's type candidates over every
 * non-empty cell (lib/ingest/types.ts). It works on raw bytes in fixed-size chunks, so memory
 * stays bounded whatever the file size; prepare.ts uses it to re-emit the records as canonical CSV
 * when the file needs cleaning before DuckDB reads it. A record that is one line ending in LF or
 * CRLF, whose quoted fields (if any) hold no line end and no escaped quote (most lines of most
 * files), is read off the structural index — the offsets of its delimiters, quotes and line ends,
 * found by SIMD (structural.ts); every other record goes through the general state machine
 * (test/scan-fast-path.test.ts checks the two agree).
 */
import { T_ALL, TYPE_ORDER, classify } from './types.js';
import { BLOCK, StructuralIndex } from './structural.js';

export interface Dialect {
  /** Field delimiter byte. */
  delimiter: number;
  /** Quote byte, or -1 for none. */
  quote: number;
  /** Escape byte inside quotes; equal to `quote` for doubled quotes; -1 for none. */
  escape: number;
  /** Lines starting with this byte are comments (skipped and reported); -1 for none. */
  comment: number;
  /** Strip spaces around fields (files padded for alignment). */
  trim: boolean;
}

export const LF = 10;
export const CR = 13;
const SPACE = 32;
const TAB = 9;

export interface TypeCounterExample {
  type: string;
  value: string;
  line: number;
}

export interface ColumnStats {
  mask: number;
  nonEmpty: number;
  empty: number;
  counterExamples: TypeCounterExample[];
}

export interface BadRecord {
  line: number;
  start: number;
  end: number;
  fields: number;
  reason: string;
}

/** The record a sink is handed: read-only, valid only during the call. */
export interface ScannedRecord {
  /** Number of fields. */
  readonly fields: number;
  /** Physical line (1-based) where the record starts. */
  readonly line: number;
  /** Absolute byte offsets of the record in the file (its line ending included). */
  readonly start: number;
  readonly end: number;
  /** Field j's text, unquoted and unescaped. */
  text(j: number): string;
  quoted(j: number): boolean;
  /** The storage types field j satisfies (types.ts bits; 0 for text, an escaped value, or empty). */
  types(j: number, candidates: number): number;
  empty(j: number): boolean;
}

export interface RecordSink {
  /** Called for every good data record (and each header record). */
  record?(rec: ScannedRecord, isHeader: boolean): void;
  /** Raw mode (detection): called for every record, whatever its shape. */
  raw?(rec: ScannedRecord, brokenQuote: string): void;
}

/** What a whole-file pass found: read-only. */
export interface ScanResult {
  /** Good data records. */
  readonly records: number;
  readonly columns: readonly ColumnStats[];
  /** Records that did not fit (up to 1,000,000 kept), and how many there were in all. */
  readonly bad: readonly BadRecord[];
  readonly badCount: number;
  readonly blankLines: number;
  readonly commentLines: number;
  /** Byte ranges not part of the table body (blank and comment lines, extra header rows). */
  readonly skipped: ReadonlyArray<readonly [number, number]>;
  /** Cells whose padding around the delimiter was trimmed. */
  readonly trimmedCells: number;
  /** Opening quotes that never closed properly across line ends, read as text. */
  readonly recoveredQuotes: number;
  readonly newlines: { readonly lf: number; readonly crlf: number; readonly cr: number };
  /** The header: names (several rows joined per column), its field count and line; null without one. */
  readonly header: { readonly cells: readonly string[]; readonly fields: number; readonly line: number } | null;
  /** Longest record, in bytes. */
  readonly maxRecordBytes: number;
  /** The physical line after the last record scanned. */
  readonly line: number;
  /** Offset of a NUL byte / of the first invalid UTF-8 byte, or -1. */
  readonly nulAt: number;
  readonly invalidUtf8At: number;
}

export interface ScanOptions {
  dialect: Dialect;
  header: boolean;
  /** Header records (a multi-row header combines its rows' names per column); 1 when omitted. */
  headerRows?: number;
  /** Expected fields per data record (known from detection); else the header's/first record's count. */
  fields?: number;
  /** Keep every bad record (quarantine); otherwise stop at the first one. */
  keepGoing: boolean;
  /** Physical line number of the first byte scanned. */
  firstLine?: number;
  sink?: RecordSink;
  /** Stop after this many data records (sampling). */
  maxRecords?: number;
  /** Detection mode: every record goes to sink.raw, no header/field-count logic. */
  raw?: boolean;
  /** Parse every record with the general state machine, without the fast path (the reference the tests compare it with). */
  generic?: boolean;
}

export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export class Scanner {
  readonly d: Dialect;
  readonly opts: ScanOptions;
  fields: number;
  private headerCells: string[] | null = null;
  private headerFields = 0;
  private headerLine = 0;
  /** Header records still to come. */
  private headerPending: number;
  /** The header's records, one array of names per row (more than one for a multi-row header). */
  private headerRowsCells: string[][] = [];
  /** Cells whose padding (spaces around the delimiter) was trimmed. */
  private trimmedCells = 0;
  private records = 0;
  private columns: ColumnStats[] = [];
  private bad: BadRecord[] = [];
  private badCount = 0;
  private blankLines = 0;
  private commentLines = 0;
  /** Byte ranges not part of the table body (blank and comment lines). */
  private skipped: Array<[number, number]> = [];
  /**
   * In a one-column table a blank line is an empty value, not noise — unless nothing follows it
   * (trailing newlines). Blank lines are held here until the next record decides.
   */
  private pendingBlanks: Array<{ line: number; start: number; end: number }> = [];
  private lfCount = 0;
  private crlfCount = 0;
  private crCount = 0;
  private line: number;
  /** Set by scanFile's checks (and read by result()). */
  invalidUtf8At = -1;
  /** Longest record seen, in bytes. */
  private maxRecordBytes = 0;
  /** Opening quotes that never closed properly across line ends, read as text. */
  private recoveredQuotes = 0;
  nulAt = -1;
  stopped = false;
  /** Bytes consumed (absolute offset of the next unscanned record). */
  offset = 0;

  // current record's cells (offsets into the current buffer)
  private cellStart = new Int32Array(64);
  private cellEnd = new Int32Array(64);
  private cellFlags = new Uint8Array(64); // 1 quoted, 2 has escapes, 4 padding trimmed
  private nf = 0;
  private recLine = 0;
  private recStart = 0;
  private recEnd = 0;
  /** The buffer and its absolute offset while a sink is called. */
  private buf: Buffer = Buffer.alloc(0);
  private base = 0;
  /** The current record as sinks see it. */
  private readonly view: ScannedRecord;

  // the structural index within one scan() call: offsets positions[ixAt, ixCount) of the bytes
  // [ixFrom, ixTo), relative to ixFrom
  private ixCount = 0;
  private ixAt = 0;
  private ixFrom = 0;
  private ixTo = 0;

  private masks: Int32Array = new Int32Array(0);
  private empties: Float64Array = new Float64Array(0);
  private readonly special = new Uint8Array(256);

  constructor(opts: ScanOptions) {
    this.opts = opts;
    this.d = opts.dialect;
    this.fields = opts.fields ?? 0;
    this.headerPending = opts.header ? Math.max(1, opts.headerRows ?? 1) : 0;
    this.line = opts.firstLine ?? 1;
    this.special[this.d.delimiter] = 1;
    this.special[LF] = 1;
    this.special[CR] = 1;
    if (this.d.quote >= 0) this.special[this.d.quote] = 2;
    if (this.fields > 0) this.initColumns(this.fields);
    this.view = Object.defineProperties(
      {
        text: (j: number) => this.cellText(this.buf, j),
        quoted: (j: number) => (this.cellFlags[j]! & 1) === 1,
        empty: (j: number) => this.cellEnd[j] === this.cellStart[j],
        types: (j: number, candidates: number) => {
          const st = this.cellStart[j]!;
          const e = this.cellEnd[j]!;
          return e > st && !(this.cellFlags[j]! & 2) ? classify(this.buf, st, e, candidates) : 0;
        },
      },
      {
        fields: { get: () => this.nf },
        line: { get: () => this.recLine },
        start: { get: () => this.base + this.recStart },
        end: { get: () => this.base + this.recEnd },
      },
    ) as ScannedRecord;
  }

  /** What the pass found (call after finish()). */
  result(): ScanResult {
    return Object.freeze({
      records: this.records,
      columns: this.columns,
      bad: this.bad,
      badCount: this.badCount,
      blankLines: this.blankLines,
      commentLines: this.commentLines,
      skipped: this.skipped,
      trimmedCells: this.trimmedCells,
      recoveredQuotes: this.recoveredQuotes,
      newlines: { lf: this.lfCount, crlf: this.crlfCount, cr: this.crCount },
      header: this.headerCells ? { cells: this.headerCells, fields: this.headerFields, line: this.headerLine } : null,
      maxRecordBytes: this.maxRecordBytes,
      line: this.line,
      nulAt: this.nulAt,
      invalidUtf8At: this.invalidUtf8At,
    });
  }

  /** Points the view at the buffer holding the current record, before a sink is called. */
  private at(b: Buffer, base: number): ScannedRecord {
    this.buf = b;
    this.base = base;
    return this.view;
  }

  private initColumns(n: number): void {
    this.fields = n;
    this.masks = new Int32Array(n).fill(T_ALL);
    this.empties = new Float64Array(n);
    this.columns = Array.from({ length: n }, () => ({ mask: T_ALL, nonEmpty: 0, empty: 0, counterExamples: [] }));
  }

  private growCells(): void {
    const n = this.cellStart.length * 2;
    const s = new Int32Array(n);
    s.set(this.cellStart);
    const e = new Int32Array(n);
    e.set(this.cellEnd);
    const f = new Uint8Array(n);
    f.set(this.cellFlags);
    this.cellStart = s;
    this.cellEnd = e;
    this.cellFlags = f;
  }

  /** Blank lines followed by a record were empty values of a one-column table. */
  private flushBlanks(b: Buffer): void {
    // (a pending blank's value is empty: its offsets are not used)
    const saved = { nf: this.nf, s: this.cellStart[0]!, e: this.cellEnd[0]!, f: this.cellFlags[0]!, line: this.recLine };
    for (const p of this.pendingBlanks) {
      this.records++;
      this.empties[0]!++;
      this.nf = 1;
      this.cellStart[0] = 0;
      this.cellEnd[0] = 0;
      this.cellFlags[0] = 0;
      this.recLine = p.line;
      const sink = this.opts.sink;
      if (sink?.record) sink.record(this.at(b, 0), false);
    }
    this.pendingBlanks = [];
    this.nf = saved.nf;
    this.cellStart[0] = saved.s;
    this.cellEnd[0] = saved.e;
    this.cellFlags[0] = saved.f;
    this.recLine = saved.line;
  }

  /** Fills the per-column counts (kept in typed arrays while scanning). */
  finish(): void {
    // blank lines at the very end are trailing newlines, not values
    for (const p of this.pendingBlanks) {
      this.blankLines++;
      this.skipped.push([p.start, p.end]);
    }
    this.pendingBlanks = [];
    this.columns.forEach((c, j) => {
      c.empty = this.empties[j] ?? 0;
      c.nonEmpty = this.records - c.empty;
    });
  }

  /** Decoded text of cell j of the current record. */
  private cellText(b: Buffer, j: number): string {
    const s = this.cellStart[j]!;
    const e = this.cellEnd[j]!;
    const flags = this.cellFlags[j]!;
    if (!(flags & 2)) return b.toString('utf8', s, e);
    // unescape
    const q = this.d.quote;
    const esc = this.d.escape;
    const out: number[] = [];
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      if (c === esc && i + 1 < e && (esc !== q || b[i + 1] === q)) {
        out.push(b[i + 1]!);
        i++;
      } else out.push(c);
    }
    return Buffer.from(out).toString('utf8');
  }

  /**
   * Scans complete records in b[pos, end). `base` is the absolute file offset of b[0].
   * Returns the index of the first byte not consumed (the start of an incomplete record when
   * `final` is false).
   */
  scan(buf: Buffer, pos: number, end: number, base: number, final: boolean): number {
    const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const d = this.d;
    const delim = d.delimiter;
    const quote = d.quote;
    const esc = d.escape;
    const trim = d.trim;
    const special = this.special;
    // the fast path (fastRecord): a record that is one line ending in LF or CRLF is split on the
    // structural index's offsets; any other record goes through the state machine below
    const ix = !trim && !this.opts.generic ? StructuralIndex.acquire() : undefined;
    this.ixCount = 0;
    this.ixAt = 0;
    this.ixTo = pos;
    try {
    let i = pos;
    while (i < end) {
      if (this.stopped) return i;
      const recStart = i;
      let nf = 0;
      let newlines = 0;
      let badQuote = '';
      // comment line
      if (d.comment >= 0 && b[i] === d.comment) {
        let j = i;
        while (j < end && b[j] !== LF && b[j] !== CR) j++;
        if (j >= end && !final) return recStart;
        const lineEnd = this.lineEnd(b, j, end, final);
        if (lineEnd < 0) return recStart;
        this.commentLines++;
        this.skipped.push([base + recStart, base + lineEnd]);
        this.line++;
        i = lineEnd;
        continue;
      }
      let next = ix ? this.fastRecord(ix, b, i, end) : -1;
      if (next >= 0) nf = this.nf;
      let recordDone = next >= 0;
      while (!recordDone) {
        if (nf >= this.cellStart.length) this.growCells();
        let fs0 = i;
        if (trim) while (fs0 < end && (b[fs0] === SPACE || (b[fs0] === TAB && delim !== TAB))) fs0++;
        let padded = fs0 > i;
        let cs = fs0;
        let ce = fs0;
        let flags = 0;
        let quoted = false;
        if (quote >= 0 && fs0 < end && b[fs0] === quote) {
          // quoted field
          let qflags = 1;
          let qnl = 0;
          let j = fs0 + 1;
          let closed = -1;
          while (j < end) {
            const c = b[j]!;
            if (c === quote) {
              if (esc === quote) {
                if (j + 1 >= end) {
                  if (!final) return recStart;
                  closed = j;
                  break;
                }
                if (b[j + 1] === quote) {
                  qflags |= 2;
                  j += 2;
                  continue;
                }
              }
              closed = j;
              break;
            }
            if (c === esc && esc >= 0) {
              qflags |= 2;
              j += 2;
              continue;
            }
            if (c === LF) qnl++;
            else if (c === CR && b[j + 1] !== LF) qnl++;
            j++;
          }
          let broken = '';
          let qend: number;
          let after: number;
          if (closed < 0) {
            if (!final && end - recStart <= MAX_RECORD_BYTES) return recStart;
            broken = 'unterminated quoted field';
            qend = end;
            after = end;
          } else {
            qend = closed;
            // after the closing quote: optional spaces (trim), then delimiter / newline / EOF
            let k = closed + 1;
            if (trim) while (k < end && (b[k] === SPACE || (b[k] === TAB && delim !== TAB))) k++;
            if (k > closed + 1) padded = true;
            if (k < end && b[k] !== delim && b[k] !== LF && b[k] !== CR) {
              broken = 'text after a closing quote';
              // resync: treat the rest of the field as unquoted
              while (k < end && b[k] !== delim && b[k] !== LF && b[k] !== CR) k++;
            }
            after = k;
          }
          if (broken && qnl > 0) {
            // A "quoted field" that runs over line ends and never closes properly is a stray quote
            // opening an ordinary value (a hand edit): read the quote as text, field ends at the line.
            this.recoveredQuotes++;
          } else {
            quoted = true;
            flags = qflags;
            cs = fs0 + 1;
            ce = qend;
            i = after;
            newlines += qnl;
            if (broken) badQuote = broken;
          }
        }
        if (!quoted) {
          // unquoted field
          let j = fs0;
          for (;;) {
            while (j < end && special[b[j]!] === 0) j++;
            if (j < end && special[b[j]!] === 2) {
              // a quote inside an unquoted field is literal text
              j++;
              continue;
            }
            break;
          }
          cs = fs0;
          ce = j;
          if (trim) while (ce > cs && (b[ce - 1] === SPACE || (b[ce - 1] === TAB && delim !== TAB))) ce--;
          if (ce < j) padded = true;
          i = j;
        }
        this.cellStart[nf] = cs;
        this.cellEnd[nf] = ce;
        this.cellFlags[nf] = flags | (padded ? 4 : 0);
        nf++;
        if (i >= end) {
          if (!final) return recStart;
          next = end;
          break;
        }
        const c = b[i]!;
        if (c === delim) {
          i++;
          if (i >= end && !final) return recStart;
          if (i >= end) {
            // delimiter right before EOF: one more (empty) field
            if (nf >= this.cellStart.length) this.growCells();
            this.cellStart[nf] = end;
            this.cellEnd[nf] = end;
            this.cellFlags[nf] = 0;
            nf++;
            next = end;
            recordDone = true;
          }
          continue;
        }
        // newline (LF inline: the common case)
        if (c === LF) {
          this.lfCount++;
          next = i + 1;
        } else {
          const le = this.lineEnd(b, i, end, final);
          if (le < 0) return recStart;
          next = le;
        }
        recordDone = true;
      }
      // a complete record in b[recStart, next)
      if (next - recStart > this.maxRecordBytes) this.maxRecordBytes = next - recStart;
      this.nf = nf;
      this.recStart = recStart;
      this.recEnd = next;
      this.recLine = this.line;
      this.line += 1 + newlines;
      this.endRecord(buf, b, base, badQuote);
      i = next;
      if (this.opts.maxRecords !== undefined && this.records >= this.opts.maxRecords) {
        this.stopped = true;
        return i;
      }
    }
    return i;
    } finally {
      ix?.release();
    }
  }

  /**
   * The fast path: the record at b[i] when it is one line ending in LF or CRLF whose quoted fields
   * (if any) hold no line end and no escaped quote and close right before a delimiter or the line
   * end — most records of most files. Its cells are read off the structural index: fills the cells
   * and returns the offset after the line end; -1 (nothing counted) when the state machine must
   * decide: any other record, or a line not complete before `end`.
   */
  private fastRecord(ix: StructuralIndex, b: Uint8Array, i: number, end: number): number {
    const delim = this.d.delimiter;
    const quote = this.d.quote;
    const P = ix.positions;
    // offsets before the record (the state machine read those bytes) are passed over
    while (this.ixAt < this.ixCount && P[this.ixAt]! + this.ixFrom < i) this.ixAt++;
    let nf = 0;
    let s = i;
    for (;;) {
      let p = this.structural(ix, b, end, i);
      if (p < 0) return -1;
      let c = b[p]!;
      let cs = s;
      let flags = 0;
      if (c === quote && p === s) {
        if (this.d.escape >= 0 && this.d.escape !== quote) return -1;
        // a quoted field: delimiters inside it are text; a line end inside is the state machine's
        this.ixAt++;
        for (;;) {
          p = this.structural(ix, b, end, i);
          if (p < 0) return -1;
          c = b[p]!;
          if (c !== delim) break;
          this.ixAt++;
        }
        // a doubled (escaped) quote, or no byte after the closing one yet: the state machine's
        if (c !== quote || p + 1 >= end || b[p + 1] === quote) return -1;
        cs = s + 1;
        flags = 1;
        this.ixAt++;
        // text after the closing quote: the state machine's
        if (this.structural(ix, b, end, i) !== p + 1) return -1;
        this.cellEnd[nf] = p;
        p++;
        c = b[p]!;
      } else {
        // a quote inside an unquoted field is text
        while (c === quote) {
          this.ixAt++;
          p = this.structural(ix, b, end, i);
          if (p < 0) return -1;
          c = b[p]!;
        }
        if (nf >= this.cellStart.length) this.growCells();
        this.cellEnd[nf] = p;
      }
      this.cellStart[nf] = cs;
      this.cellFlags[nf] = flags;
      nf++;
      this.ixAt++;
      if (nf >= this.cellStart.length) this.growCells();
      if (c === delim) {
        s = p + 1;
        continue;
      }
      if (c === LF) {
        this.lfCount++;
        this.nf = nf;
        return p + 1;
      }
      // a CR ends the line only as CRLF; a CR alone is the state machine's
      if (p + 1 >= end || b[p + 1] !== LF) return -1;
      this.crlfCount++;
      this.nf = nf;
      return p + 2;
    }
  }

  /** Offset of the next structural byte at or after the index's cursor (indexing more of b[min, end) as needed); -1 when none. */
  private structural(ix: StructuralIndex, b: Uint8Array, end: number, min: number): number {
    for (;;) {
      if (this.ixAt < this.ixCount) return ix.positions[this.ixAt]! + this.ixFrom;
      if (this.ixTo >= end) return -1;
      const from = Math.max(this.ixTo, min);
      const quote = this.d.quote;
      this.ixCount = ix.fill(b, from, end, this.d.delimiter, quote >= 0 ? quote : this.d.delimiter);
      this.ixFrom = from;
      this.ixTo = Math.min(end, from + BLOCK);
      this.ixAt = 0;
    }
  }

  /** Offset after the newline at b[i] (LF, CRLF or CR), or -1 if more data is needed. */
  private lineEnd(b: Uint8Array, i: number, end: number, final: boolean): number {
    if (i >= end) return end;
    const c = b[i];
    if (c === LF) {
      this.lfCount++;
      return i + 1;
    }
    if (c === CR) {
      if (i + 1 >= end) {
        if (!final) return -1;
        this.crCount++;
        return i + 1;
      }
      if (b[i + 1] === LF) {
        this.crlfCount++;
        return i + 2;
      }
      this.crCount++;
      return i + 1;
    }
    return i + 1;
  }

  private endRecord(b: Buffer, u8: Uint8Array, base: number, badQuote: string): void {
    const nf = this.nf;
    if (this.opts.raw) {
      this.records++;
      this.opts.sink!.raw!(this.at(b, base), badQuote);
      return;
    }
    // blank line
    if (nf === 1 && (this.cellFlags[0]! & 1) === 0 && this.cellEnd[0] === this.cellStart[0]) {
      if (this.fields === 1 && this.headerPending === 0) {
        this.pendingBlanks.push({ line: this.recLine, start: base + this.recStart, end: base + this.recEnd });
        return;
      }
      this.blankLines++;
      this.skipped.push([base + this.recStart, base + this.recEnd]);
      return;
    }
    if (this.pendingBlanks.length) this.flushBlanks(b);
    if (this.headerPending > 0) {
      this.headerPending--;
      const cells: string[] = [];
      for (let j = 0; j < nf; j++) cells.push(this.cellText(b, j));
      if (this.headerRowsCells.length === 0) {
        this.headerFields = nf;
        this.headerLine = this.recLine;
      } else {
        this.skipped.push([base + this.recStart, base + this.recEnd]);
      }
      this.headerRowsCells.push(cells);
      this.headerCells = combineHeaderRows(this.headerRowsCells);
      if (this.fields === 0) this.initColumns(nf);
      const sink = this.opts.sink;
      if (sink?.record) sink.record(this.at(b, base), true);
      return;
    }
    if (this.fields === 0) this.initColumns(nf);
    if (badQuote || nf !== this.fields) {
      this.badCount++;
      const reason = badQuote
        ? `broken quoting: ${badQuote}`
        : nf > this.fields
          ? `too many fields: expected ${this.fields}, found ${nf}`
          : `too few fields: expected ${this.fields}, found ${nf}`;
      if (this.bad.length < 1_000_000) {
        this.bad.push({ line: this.recLine, start: base + this.recStart, end: base + this.recEnd, fields: nf, reason });
      }
      if (!this.opts.keepGoing) this.stopped = true;
      return;
    }
    this.records++;
    if (this.d.trim) for (let j = 0; j < nf; j++) if (this.cellFlags[j]! & 4) this.trimmedCells++;
    const masks = this.masks;
    const empties = this.empties;
    const starts = this.cellStart;
    const ends = this.cellEnd;
    for (let j = 0; j < nf; j++) {
      const s = starts[j]!;
      const e = ends[j]!;
      if (e === s) {
        empties[j]!++;
        continue;
      }
      const m = masks[j]!;
      if (m === 0) continue;
      const got = this.cellFlags[j]! & 2 ? 0 : classify(u8, s, e, m);
      if (got !== m) {
        const col = this.columns[j]!;
        const lost = m & ~got;
        const value = this.cellText(b, j);
        for (const [bit, name] of TYPE_ORDER) {
          if (lost & bit && col.counterExamples.length < 8) col.counterExamples.push({ type: name, value: value.slice(0, 80), line: this.recLine });
        }
        masks[j] = got;
        col.mask = got;
      }
    }
    const sink = this.opts.sink;
    if (sink?.record) sink.record(this.at(b, base), false);
  }
}

/**
 * Column names from the header rows: one row as is; several rows (a multi-row header) joined per
 * column with a space, leaving out empty parts. Names are kept byte for byte.
 */
export function combineHeaderRows(rows: string[][]): string[] {
  if (rows.length === 1) return rows[0]!;
  const n = Math.max(...rows.map((r) => r.length));
  const out: string[] = [];
  for (let j = 0; j < n; j++) out.push(rows.map((r) => r[j] ?? '').filter((c) => c.trim().length > 0).join(' '));
  return out;
}
