/**
 * planTable(): the dialect and where the table is, from the head sample (and the tail sample for
 * footers), with the types the sample suggests — everything the whole-file pass and an early
 * conversion need before they start. Pure: the text's head is in memory, the tail is read from the
 * file. Light on imports, as it also runs in the scan's worker thread (scan-worker.ts).
 */
import { detect, type CsvHints, type Detection } from './detect.js';
import { combineHeaderRows, type ScanOptions } from './scan.js';
import { columnNames } from './schema.js';
import { ingestError, readBytes } from './prepare.js';
import { typeName } from './types.js';
import type { Column } from './analyze.js';
import type { TextFile } from './text.js';
import type { BadRows } from './status.js';

/** The tail sample (footer lines); an arriving file has these bytes on disk first (incoming.ts). */
export const TAIL_BYTES = 64 * 1024;

export interface Plan {
  text: TextFile;
  detection: Detection;
  /** Byte range of the table (header included, footer excluded). */
  start: number;
  end: number;
  /** The schema the head sample suggests (names final, types possibly too narrow). */
  sampleColumns: Column[];
  /** Is the table the whole file, in a shape DuckDB reads as is? Then conversion may start early. */
  direct: boolean;
}


/** Byte offset after the first `n` physical lines of b (LF, CRLF or CR), or -1 when b has fewer. */
function afterLines(b: Buffer, n: number): number {
  let i = 0;
  for (let line = 0; line < n; line++) {
    while (i < b.length && b[i] !== 10 && b[i] !== 13) i++;
    if (i >= b.length) return -1;
    i += b[i] === 13 && b[i + 1] === 10 ? 2 : 1;
  }
  return i;
}

export function planTable(t: TextFile, hints: CsvHints = {}): Plan {
  let text = t.head.subarray(t.textStart);
  const headFinal = t.head.length >= t.size;
  // lines the upload said to skip: detection starts after them
  let skipBytes = 0;
  if (hints.skip_lines) {
    skipBytes = afterLines(text, hints.skip_lines);
    if (skipBytes < 0) throw ingestError('empty_file', `The file has fewer than ${hints.skip_lines + 1} lines: nothing is left after skip_lines.`);
    text = text.subarray(skipBytes);
  }
  // the tail sample locates footer lines; small files are wholly in the head sample
  const tail =
    t.size > TAIL_BYTES
      ? { buf: readBytes(t.file, TAIL_BYTES, t.size - TAIL_BYTES), offset: t.size - TAIL_BYTES - t.textStart - skipBytes }
      : undefined;
  const detection = detect(text, headFinal, tail, hints, (hints.skip_lines ?? 0) + 1);
  detection.tableStart += skipBytes;
  if (detection.footerStart >= 0) detection.footerStart += skipBytes;
  detection.preambleLines += hints.skip_lines ?? 0;
  const start = t.textStart + detection.tableStart;
  const end = detection.footerStart >= 0 ? t.textStart + detection.footerStart : t.size;
  const headerNames = detection.header && detection.headerCells ? combineHeaderRows(detection.headerCells) : null;
  const names = columnNames(headerNames, detection.fields, detection.headerAlign).names;
  const sampleColumns = names.map((name, j) => ({ name, type: typeName(detection.sampleMasks[j] ?? 0), nullable: true }));
  const d = detection.dialect;
  const direct =
    start === t.textStart &&
    end === t.size &&
    !d.trim &&
    d.comment < 0 &&
    detection.headerFields === detection.fields &&
    detection.headerRows <= 1;
  return { text: t, detection, start, end, sampleColumns, direct };
}

/** The whole-file pass's options for a plan. */
export function scanOptions(p: Plan, badRows: BadRows): ScanOptions {
  const { detection } = p;
  return {
    dialect: detection.dialect,
    header: detection.header,
    headerRows: detection.headerRows,
    fields: detection.fields,
    keepGoing: badRows === 'quarantine',
    firstLine: detection.tableLine,
  };
}
