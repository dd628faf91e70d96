/**
 * Everything ingest decides about a local text file before converting it: encoding, dialect,
 * where the table is, the header, every record's shape, every column's type. Pure file work, no
 * S3 — tested directly on fixture files.
 *
 * Three phases, so the pipeline can overlap them with the conversion:
 *   openText()  — encoding marks, binary check, transcoding of non-UTF-8 text (text.ts);
 *   planTable() — dialect and table location from head/tail samples, plus the sample's types (plan.ts);
 *   scanTable() — the pass over every record (field counts, types), the authority on the schema
 *                 (here, with the checks and the report that turn its result into the Analysis).
 */
import type { CsvHints, Detection } from './detect.js';
import { dialectLabel } from './sample.js';
import type { Dialect, ScanResult } from './scan.js';
import { scanFile, scanGrowingFile } from './scan-file.js';
import { scanInThread, WorkerUnavailable, type SharedProgress } from './scan-thread.js';
import { log } from '../log.js';
import { columnNames, columnReport, columnType, type ColumnReport } from './schema.js';
import { ingestError, readBytes } from './prepare.js';
import { openText, retranscode, type Available } from './text.js';
import { planTable, scanOptions, type Plan } from './plan.js';
import type { BadRows } from './status.js';

export { planTable, TAIL_BYTES, type Plan } from './plan.js';

export interface Column {
  name: string;
  type: string;
  nullable: boolean;
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
  /** The whole-file pass. */
  scan: ScanResult;
  columns: Column[];
  report: {
    columns: ColumnReport[];
    dialect: Record<string, unknown>;
    detected: Record<string, unknown>;
    confidence: Detection['confidence'];
    transformations: Array<Record<string, unknown>>;
    notes: string[];
  };
  /** Does DuckDB need a cleaned or canonical copy rather than the file itself? */
  needsCopy: boolean;
  needsCanonical: boolean;
}

export interface AnalyzeOptions {
  badRows: BadRows;
  workDir: string;
  /** CSV hints from the upload: each given field overrides detection. */
  hints?: CsvHints;
}

/** Thrown by scanTable when bytes deep in the file are not UTF-8 (the head was). */
export class NotUtf8Error extends Error {
  constructor(readonly at: number) {
    super('invalid UTF-8');
  }
}

/**
 * The pass over every record. With `available`, the file is still arriving and the pass reads
 * each chunk once its bytes are on disk (the scan runs while the upload downloads); with
 * `progress` too, it runs in a worker thread (scan-thread.ts), or here when none can start.
 */
export async function scanTable(p: Plan, opts: AnalyzeOptions, available?: Available, progress?: SharedProgress): Promise<Analysis> {
  const { text: t, start, end } = p;
  const scanOpts = scanOptions(p, opts.badRows);
  const here = () => (available ? scanGrowingFile(t.file, start, end, scanOpts, available) : scanFile(t.file, start, end, scanOpts));
  const scan = progress
    ? await scanInThread(t.file, start, end, scanOpts, progress).catch((e: unknown) => {
        if (!(e instanceof WorkerUnavailable)) throw e;
        log.warn('ingest: no worker thread for the scan; scanning on the main thread', { err: e });
        return here();
      })
    : await here();
  return analysisOf(p, opts, scan);
}

/**
 * The analysis from a pass already running in a worker (scan-thread.ts planAndScanInThread); the
 * pass is run here instead when the worker stopped without an answer.
 */
export async function scannedTable(p: Plan, opts: AnalyzeOptions, running: Promise<ScanResult>, available?: Available): Promise<Analysis> {
  const scan = await running.catch((e: unknown) => {
    if (!(e instanceof WorkerUnavailable)) throw e;
    log.warn('ingest: the scan worker stopped; scanning on the main thread', { err: e });
    const o = scanOptions(p, opts.badRows);
    return available ? scanGrowingFile(p.text.file, p.start, p.end, o, available) : scanFile(p.text.file, p.start, p.end, o);
  });
  return analysisOf(p, opts, scan);
}

/** What the pass found, checked (binary, encoding, bad rows) and turned into the analysis. */
export function analysisOf(p: Plan, opts: AnalyzeOptions, scan: ScanResult): Analysis {
  const { text: t, detection, start, end } = p;
  const d = detection.dialect;
  if (scan.nulAt >= 0) {
    throw ingestError('not_text', `The file contains a NUL byte (at byte ${scan.nulAt}, near line ${scan.line}): it is not text.`, {
      line: scan.line,
    });
  }
  if (scan.invalidUtf8At >= 0) {
    if (t.encoding !== 'utf-8') throw ingestError('not_text', 'The file is not valid text in any supported encoding.');
    if (opts.hints?.encoding === 'utf-8') {
      throw ingestError('not_text', `The file is not valid UTF-8 (near line ${scan.line}), and the upload said it is UTF-8.`, { line: scan.line });
    }
    throw new NotUtf8Error(scan.invalidUtf8At);
  }
  if (scan.bad.length > 0 && opts.badRows === 'fail') {
    const b = scan.bad[0]!;
    const column = b.reason.startsWith('too many') ? detection.fields + 1 : b.reason.startsWith('too few') ? b.fields + 1 : undefined;
    throw ingestError(
      'ragged_row',
      `Line ${b.line} does not fit the table: ${b.reason}. Nothing was ingested; upload with bad_rows "quarantine" to set such rows aside.`,
      { line: b.line, ...(column ? { column } : {}) },
    );
  }
  if (scan.badCount > scan.bad.length) {
    throw ingestError(
      'too_many_bad_rows',
      `More than ${scan.bad.length} rows do not fit the table (the first on line ${scan.bad[0]!.line}); nothing was ingested. Check the dialect, or correct it with CSV hints.`,
      { line: scan.bad[0]!.line },
    );
  }
  if (scan.records === 0 && !scan.header) throw ingestError('empty_file', 'The file has no rows.');

  const naming = columnNames(detection.header && scan.header ? [...scan.header.cells] : null, detection.fields, detection.headerAlign);
  const transformations: Array<Record<string, unknown>> = [];
  if (t.encoding !== 'utf-8') transformations.push({ kind: 're-encoded', from: t.encoding, to: 'utf-8' });
  if (scan.trimmedCells) transformations.push({ kind: 'trimmed_padding', cells: scan.trimmedCells });
  if (detection.preambleLines) transformations.push({ kind: 'skipped_lines', where: 'preamble', lines: detection.preambleLines });
  if (detection.footerLines) transformations.push({ kind: 'skipped_lines', where: 'footer', lines: detection.footerLines });
  if (scan.blankLines) transformations.push({ kind: 'skipped_lines', where: 'blank', lines: scan.blankLines });
  if (scan.commentLines) transformations.push({ kind: 'skipped_lines', where: 'comment', lines: scan.commentLines });
  if (detection.headerRows > 1) transformations.push({ kind: 'header_rows_joined', rows: detection.headerRows });
  if (naming.renamed.size) transformations.push({ kind: 'renamed_columns', columns: naming.renamed.size });
  if (scan.recoveredQuotes) transformations.push({ kind: 'stray_quotes_read_as_text', count: scan.recoveredQuotes });
  const reports = naming.names.map((n, j) => columnReport(n, scan.columns[j]!, naming.renamed.get(j)));
  const columns = naming.names.map((n, j) => ({ name: n, type: columnType(scan.columns[j]!), nullable: true }));

  const newlineKinds = [scan.newlines.lf, scan.newlines.crlf, scan.newlines.cr].filter((n) => n > 0).length;
  // one-column tables with empty values: re-emit, so an empty value cannot read as a blank line
  const oneColumnEmpties = detection.fields === 1 && (scan.columns[0]?.empty ?? 0) > 0;
  const needsCanonical =
    d.trim ||
    newlineKinds > 1 ||
    (detection.header && scan.header?.fields !== detection.fields) ||
    oneColumnEmpties ||
    scan.recoveredQuotes > 0;
  const needsCopy = needsCanonical || !p.direct || scan.bad.length > 0 || scan.commentLines > 0 || scan.blankLines > 0;

  const notes = [...detection.reasons, ...naming.notes];
  if (t.encoding !== 'utf-8') notes.push(`transcoded from ${t.encoding} to UTF-8`);
  if (scan.blankLines) notes.push(`${scan.blankLines} blank line(s) skipped`);
  if (scan.trimmedCells) notes.push(`${scan.trimmedCells} cell(s) had the padding around the delimiter trimmed`);
  if (scan.commentLines) notes.push(`${scan.commentLines} comment line(s) skipped`);
  if (newlineKinds > 1) notes.push('mixed line endings');
  if (scan.recoveredQuotes) notes.push(`${scan.recoveredQuotes} stray opening quote(s) never closed: read as text`);
  const lineEnding = newlineKinds > 1 ? 'mixed' : scan.newlines.crlf ? 'CRLF' : scan.newlines.cr ? 'CR' : 'LF';
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
    scan,
    columns,
    report: {
      columns: reports,
      dialect: {
        ...dialectLabel(d),
        header: detection.header,
        header_line: detection.header ? scan.header?.line || detection.tableLine : null,
        encoding: t.encoding,
        bom: t.textStart === 3,
        line_ending: lineEnding,
        comment: d.comment >= 0 ? String.fromCharCode(d.comment) : null,
        trimmed: d.trim,
        preamble_lines: detection.preambleLines,
        ...(detection.preambleLines ? { preamble: skippedText(t.textStart, start) } : {}),
        footer_lines: detection.footerLines,
        ...(detection.footerLines ? { footer: skippedText(end, t.size) } : {}),
        blank_lines: scan.blankLines,
        comment_lines: scan.commentLines,
        header_rows: detection.header ? detection.headerRows : 0,
      },
      detected: {
        ...dialectLabel(d),
        header: detection.header,
        header_rows: detection.header ? detection.headerRows : 0,
        skip_lines: detection.preambleLines,
        encoding: t.encoding,
        from_hints: detection.confidence.from_hints,
      },
      confidence: detection.confidence,
      transformations,
      notes,
    },
    needsCopy,
    needsCanonical,
  };
}

/** All three phases, transcoding and starting over when non-UTF-8 bytes turn up late. */
export async function analyzeFile(input: string, opts: AnalyzeOptions): Promise<Analysis> {
  const t = await openText(input, opts.workDir, { hint: opts.hints?.encoding });
  try {
    return await scanTable(planTable(t, opts.hints), opts);
  } catch (e) {
    if (!(e instanceof NotUtf8Error)) throw e;
    const again = await retranscode(t, e, opts.workDir);
    return scanTable(planTable(again, opts.hints), opts);
  }
}

export function sameColumns(a: Column[], b: Column[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type);
}
