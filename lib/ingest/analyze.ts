/**
 * Everything ingest decides about a local text file before converting it: encoding, dialect,
 * where the table is, the header, every record's shape, every column's type. Pure file work, no
 * S3 — tested directly on fixture files.
 *
 * Three phases, so the pipeline can overlap them with the conversion:
 *   openText()  — encoding marks, binary check, transcoding of non-UTF-8 text;
 *   planTable() — dialect and table location from head/tail samples, plus the sample's types;
 *   scanTable() — the pass over every record (field counts, types), the authority on the schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { detect, dialectLabel, type Detection } from './dialect.js';
import { scanFile, type Dialect, type Scanner } from './scan.js';
import { columnNames, columnReport, columnType, type ColumnReport } from './schema.js';
import { ingestError, looksBinary, plausibleWindows1252, readBytes, transcode } from './prepare.js';
import { typeName } from './types.js';
import type { BadRows } from './status.js';

const HEAD_BYTES = 1024 * 1024;
const TAIL_BYTES = 64 * 1024;

export interface Column {
  name: string;
  type: string;
  nullable: boolean;
}

export interface TextFile {
  /** A UTF-8 file (the input, or a transcoded copy). */
  file: string;
  encoding: string;
  /** Bytes before the text (a UTF-8 BOM). */
  textStart: number;
  size: number;
  head: Buffer;
}

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

export interface Analysis {
  file: string;
  encoding: string;
  dialect: Dialect;
  header: boolean;
  fields: number;
  start: number;
  end: number;
  detection: Detection;
  scanner: Scanner;
  columns: Column[];
  report: { columns: ColumnReport[]; dialect: Record<string, unknown>; notes: string[] };
  /** Does DuckDB need a cleaned or canonical copy rather than the file itself? */
  needsCopy: boolean;
  needsCanonical: boolean;
}

export interface AnalyzeOptions {
  badRows: BadRows;
  workDir: string;
}

/** Thrown by scanTable when bytes deep in the file are not UTF-8 (the head was). */
export class NotUtf8Error extends Error {
  constructor(readonly at: number) {
    super('invalid UTF-8');
  }
}

export async function openText(input: string, workDir: string, encoding = 'utf-8', transcoded = false): Promise<TextFile> {
  const size = fs.statSync(input).size;
  if (size === 0) throw ingestError('empty_file', 'The file is empty.');
  const head = readBytes(input, Math.min(size, HEAD_BYTES));
  let textStart = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) textStart = 3;
  else if (!transcoded && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    const enc = head[0] === 0xff ? 'utf-16le' : 'utf-16be';
    const out = path.join(workDir, `transcoded-${enc}.csv`);
    await transcode(input, out, enc, 2);
    return openText(out, workDir, enc, true);
  }
  const text = head.subarray(textStart);
  if (looksBinary(text)) {
    throw ingestError('not_text', 'The file is not text (binary data, NUL bytes or control characters).');
  }
  if (!transcoded && !isUtf8(trimPartialUtf8(text, head.length < size))) {
    return transcodeOrFail(input, head, workDir);
  }
  if (size <= HEAD_BYTES && text.every((c) => c === 32 || c === 9 || c === 10 || c === 13)) {
    throw ingestError('empty_file', 'The file has no data (only whitespace).');
  }
  return { file: input, encoding, textStart, size, head };
}

async function transcodeOrFail(input: string, sample: Buffer, workDir: string): Promise<TextFile> {
  if (!plausibleWindows1252(sample)) {
    throw ingestError('not_text', 'The file is neither UTF-8 nor Windows-1252/Latin-1 text.');
  }
  const out = path.join(workDir, 'transcoded-windows-1252.csv');
  await transcode(input, out, 'windows-1252');
  return openText(out, workDir, 'windows-1252', true);
}

export function planTable(t: TextFile): Plan {
  const text = t.head.subarray(t.textStart);
  const headFinal = t.head.length >= t.size;
  // the tail sample locates footer lines; small files are wholly in the head sample
  const tail = t.size > TAIL_BYTES ? { buf: readBytes(t.file, TAIL_BYTES, t.size - TAIL_BYTES), offset: t.size - TAIL_BYTES - t.textStart } : undefined;
  const detection = detect(text, headFinal, tail);
  const start = t.textStart + detection.tableStart;
  const end = detection.footerStart >= 0 ? t.textStart + detection.footerStart : t.size;
  const names = columnNames(detection.header ? detection.headerCells : null, detection.fields).names;
  const sampleColumns = names.map((name, j) => ({ name, type: typeName(detection.sampleMasks[j] ?? 0), nullable: true }));
  const d = detection.dialect;
  const direct =
    start === t.textStart && end === t.size && !d.trim && d.comment < 0 && detection.headerFields === detection.fields;
  return { text: t, detection, start, end, sampleColumns, direct };
}

export function scanTable(p: Plan, opts: AnalyzeOptions): Analysis {
  const { text: t, detection, start, end } = p;
  const d = detection.dialect;
  const { scanner } = scanFile(t.file, start, end, {
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
    if (t.encoding !== 'utf-8') throw ingestError('not_text', 'The file is not valid text in any supported encoding.');
    throw new NotUtf8Error(scanner.invalidUtf8At);
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
  if (scanner.records === 0 && !scanner.headerCells) throw ingestError('empty_file', 'The file has no rows.');

  const naming = columnNames(detection.header ? scanner.headerCells : null, detection.fields);
  const reports = naming.names.map((n, j) => columnReport(n, scanner.columns[j]!, naming.renamed.get(j)));
  const columns = naming.names.map((n, j) => ({ name: n, type: columnType(scanner.columns[j]!), nullable: true }));

  const newlineKinds = [scanner.lfCount, scanner.crlfCount, scanner.crCount].filter((n) => n > 0).length;
  // one-column tables with empty values: re-emit, so an empty value cannot read as a blank line
  const oneColumnEmpties = detection.fields === 1 && (scanner.columns[0]?.empty ?? 0) > 0;
  const needsCanonical =
    d.trim ||
    newlineKinds > 1 ||
    (detection.header && scanner.headerFields !== detection.fields) ||
    oneColumnEmpties ||
    scanner.recoveredQuotes > 0;
  const needsCopy = needsCanonical || !p.direct || scanner.bad.length > 0 || scanner.commentLines > 0 || scanner.blankLines > 0;

  const notes = [...detection.reasons, ...naming.notes];
  if (t.encoding !== 'utf-8') notes.push(`transcoded from ${t.encoding} to UTF-8`);
  if (scanner.blankLines) notes.push(`${scanner.blankLines} blank line(s) skipped`);
  if (scanner.commentLines) notes.push(`${scanner.commentLines} comment line(s) skipped`);
  if (newlineKinds > 1) notes.push('mixed line endings');
  if (scanner.recoveredQuotes) notes.push(`${scanner.recoveredQuotes} stray opening quote(s) never closed: read as text`);
  const lineEnding = newlineKinds > 1 ? 'mixed' : scanner.crlfCount ? 'CRLF' : scanner.crCount ? 'CR' : 'LF';
  const skippedText = (from: number, to: number, max = 5) =>
    from < to
      ? readBytes(t.file, Math.min(to - from, 4096), from)
          .toString('utf8')
          .split(/\r\n|\n|\r/)
          .filter((l) => l.length > 0)
          .slice(0, max)
          .map((l) => l.slice(0, 200))
      : [];

  return {
    file: t.file,
    encoding: t.encoding,
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
        encoding: t.encoding,
        bom: t.textStart === 3,
        line_ending: lineEnding,
        comment: d.comment >= 0 ? String.fromCharCode(d.comment) : null,
        trimmed: d.trim,
        preamble_lines: detection.preambleLines,
        ...(detection.preambleLines ? { preamble: skippedText(t.textStart, start) } : {}),
        footer_lines: detection.footerLines,
        ...(detection.footerLines ? { footer: skippedText(end, t.size) } : {}),
        blank_lines: scanner.blankLines,
        comment_lines: scanner.commentLines,
      },
      notes,
    },
    needsCopy,
    needsCanonical,
  };
}

/** All three phases, transcoding and starting over when non-UTF-8 bytes turn up late. */
export async function analyzeFile(input: string, opts: AnalyzeOptions): Promise<Analysis> {
  const t = await openText(input, opts.workDir);
  try {
    return scanTable(planTable(t), opts);
  } catch (e) {
    if (!(e instanceof NotUtf8Error)) throw e;
    const again = await retranscode(t, e, opts.workDir);
    return scanTable(planTable(again), opts);
  }
}

export async function retranscode(t: TextFile, e: NotUtf8Error, workDir: string): Promise<TextFile> {
  return transcodeOrFail(t.file, readBytes(t.file, 64 * 1024, Math.max(0, e.at - 1024)), workDir);
}

export function sameColumns(a: Column[], b: Column[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type);
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
