/**
 * Everything ingest decides about a local text file before converting it: encoding, dialect,
 * where the table is, the header, every record's shape, every column's type. Pure file work, no
 * S3 — so it is tested directly on fixture files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { detect, dialectLabel, type Detection } from './dialect.js';
import { scanFile, type Dialect, type Scanner } from './scan.js';
import { columnNames, columnReport, columnType, type ColumnReport } from './schema.js';
import { ingestError, looksBinary, plausibleWindows1252, readHead, transcode } from './prepare.js';
import type { BadRows } from './status.js';

const HEAD_BYTES = 1024 * 1024;
const TAIL_BYTES = 64 * 1024;

export interface Analysis {
  /** The UTF-8 file the table lives in (the input, or a transcoded copy). */
  file: string;
  encoding: string;
  dialect: Dialect;
  header: boolean;
  fields: number;
  /** Byte range of the table in `file` (header included, footer excluded). */
  start: number;
  end: number;
  detection: Detection;
  scanner: Scanner;
  columns: Array<{ name: string; type: string; nullable: boolean }>;
  report: {
    columns: ColumnReport[];
    dialect: Record<string, unknown>;
    notes: string[];
  };
  /** Does DuckDB need a cleaned or canonical copy rather than the file itself? */
  needsCopy: boolean;
  needsCanonical: boolean;
}

export interface AnalyzeOptions {
  badRows: BadRows;
  workDir: string;
}

export async function analyzeFile(input: string, opts: AnalyzeOptions, encoding = 'utf-8', transcoded = false): Promise<Analysis> {
  const size = fs.statSync(input).size;
  if (size === 0) throw ingestError('empty_file', 'The file is empty.');
  const head = readHead(input, Math.min(size, HEAD_BYTES));

  // Encoding marks
  let textStart = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) textStart = 3;
  else if (!transcoded && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    const enc = head[0] === 0xff ? 'utf-16le' : 'utf-16be';
    const out = path.join(opts.workDir, `transcoded-${enc}.csv`);
    await transcode(input, out, enc, 2);
    return analyzeFile(out, opts, enc, true);
  }
  const text = head.subarray(textStart);
  if (looksBinary(text)) {
    throw ingestError('not_text', 'The file is not text (binary data, NUL bytes or control characters).');
  }
  if (!transcoded && !isUtf8(trimPartialUtf8(text, head.length < size))) {
    return transcodeOrFail(input, head, opts);
  }
  if (text.every((c) => c === 32 || c === 9 || c === 10 || c === 13) && size <= HEAD_BYTES) {
    throw ingestError('empty_file', 'The file has no data (only whitespace).');
  }

  const headFinal = head.length >= size;
  // the tail sample locates footer lines; small files are wholly in the head sample
  const tail = size > TAIL_BYTES ? { buf: readHead(input, TAIL_BYTES, size - TAIL_BYTES), offset: size - TAIL_BYTES - textStart } : undefined;
  const detection = detect(text, headFinal, tail);
  const d = detection.dialect;
  const start = textStart + detection.tableStart;
  const end = detection.footerStart >= 0 ? textStart + detection.footerStart : size;

  const { scanner } = scanFile(input, start, end, {
    dialect: d,
    header: detection.header,
    fields: detection.fields,
    keepGoing: opts.badRows === 'quarantine',
    firstLine: detection.tableLine,
  });
  if (scanner.nulAt >= 0) {
    throw ingestError('not_text', `The file contains a NUL byte (at byte ${scanner.nulAt}, near line ${scanner.line}): it is not text.`, {
      line: scanner.line,
    });
  }
  if (scanner.invalidUtf8At >= 0) {
    if (transcoded) throw ingestError('not_text', 'The file is not valid text in any supported encoding.');
    return transcodeOrFail(input, readHead(input, 64 * 1024, Math.max(0, scanner.invalidUtf8At - 1024)), opts);
  }
  if (scanner.bad.length > 0 && opts.badRows === 'fail') {
    const b = scanner.bad[0]!;
    const column = b.reason.startsWith('too many') ? detection.fields + 1 : b.reason.startsWith('too few') ? b.fields + 1 : undefined;
    throw ingestError(
      'ragged_row',
      `Line ${b.line} does not fit the table: ${b.reason}. Nothing was ingested; upload with bad_rows "quarantine" to set such rows aside.`,
      { line: b.line, ...(column ? { column } : {}) },
    );
  }
  if (scanner.records === 0 && !scanner.headerCells) {
    throw ingestError('empty_file', 'The file has no rows.');
  }

  const naming = columnNames(detection.header ? scanner.headerCells : null, detection.fields);
  const reports = naming.names.map((n, j) => columnReport(n, scanner.columns[j]!, naming.renamed.get(j)));
  const columns = naming.names.map((n, j) => ({
    name: n,
    type: columnType(scanner.columns[j]!),
    nullable: true,
  }));

  const newlineKinds = [scanner.lfCount, scanner.crlfCount, scanner.crCount].filter((n) => n > 0).length;
  const needsCanonical = d.trim || newlineKinds > 1;
  const needsCopy =
    needsCanonical ||
    start !== textStart ||
    end !== size ||
    scanner.bad.length > 0 ||
    scanner.commentLines > 0 ||
    (scanner.blankLines > 0 && detection.fields === 1);

  const notes = [...detection.reasons, ...naming.notes];
  if (encoding !== 'utf-8') notes.push(`transcoded from ${encoding} to UTF-8`);
  if (scanner.blankLines) notes.push(`${scanner.blankLines} blank line(s) skipped`);
  if (scanner.commentLines) notes.push(`${scanner.commentLines} comment line(s) skipped`);
  if (newlineKinds > 1) notes.push('mixed line endings');
  const lineEnding = newlineKinds > 1 ? 'mixed' : scanner.crlfCount ? 'CRLF' : scanner.crCount ? 'CR' : 'LF';

  const skippedText = (from: number, to: number, max = 5) =>
    from < to
      ? readHead(input, Math.min(to - from, 4096), from)
          .toString('utf8')
          .split(/\r\n|\n|\r/)
          .filter((l) => l.length > 0)
          .slice(0, max)
          .map((l) => l.slice(0, 200))
      : [];

  return {
    file: input,
    encoding,
    dialect: d,
    header: detection.header,
    fields: detection.fields,
    start,
    end,
    detection,
    scanner,
    columns,
    report: {
      columns: reports,
      dialect: {
        ...dialectLabel(d),
        header: detection.header,
        header_line: detection.header ? scanner.headerLine || detection.tableLine : null,
        encoding,
        bom: textStart === 3,
        line_ending: lineEnding,
        comment: d.comment >= 0 ? String.fromCharCode(d.comment) : null,
        trimmed: d.trim,
        preamble_lines: detection.preambleLines,
        ...(detection.preambleLines ? { preamble: skippedText(textStart, start) } : {}),
        footer_lines: detection.footerLines,
        ...(detection.footerLines ? { footer: skippedText(end, size) } : {}),
        blank_lines: scanner.blankLines,
        comment_lines: scanner.commentLines,
      },
      notes,
    },
    needsCopy,
    needsCanonical,
  };
}

async function transcodeOrFail(input: string, sample: Buffer, opts: AnalyzeOptions): Promise<Analysis> {
  if (!plausibleWindows1252(sample)) {
    throw ingestError('not_text', 'The file is neither UTF-8 nor Windows-1252/Latin-1 text.');
  }
  const out = path.join(opts.workDir, 'transcoded-windows-1252.csv');
  await transcode(input, out, 'windows-1252');
  return analyzeFile(out, opts, 'windows-1252', true);
}

/** Drops a UTF-8 sequence cut off at the end of a sample (the file goes on). */
function trimPartialUtf8(b: Buffer, cut: boolean): Buffer {
  if (!cut) return b;
  let i = b.length - 1;
  let n = 0;
  while (i >= 0 && n < 4 && (b[i]! & 0xc0) === 0x80) {
    i--;
    n++;
  }
  if (i >= 0 && b[i]! >= 0xc0) return b.subarray(0, i);
  return b;
}
