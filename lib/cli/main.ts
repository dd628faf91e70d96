/**
 * `lakehouse` — upload with progress and wait for ingest, run SQL, browse the catalog.
 * Exit codes: 0 ok · 1 the API refused or the ingest failed · 2 bad usage (flag, file) · 3 API unreachable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { ApiError, Client, UnreachableError } from './client.js';
import { expandInputs, InputError, NAME_RE, nameFor } from './files.js';

/** Set by scripts/build-cli.mjs from package.json. */
declare const __LAKEHOUSE_VERSION__: string | undefined;
const VERSION = typeof __LAKEHOUSE_VERSION__ === 'string' ? __LAKEHOUSE_VERSION__ : '0.0.0-dev';
const versionOption = new Option('-V, --version', 'print the version');

class UsageError extends Error {}

interface Out {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function jobsInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('must be an integer from 1 to 64');
  return n;
}

function human(bytes: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let n = bytes;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function table(head: string[], rows: unknown[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))));
  return t.toString();
}

function client(cmd: Command): Client {
  const o = cmd.optsWithGlobals() as { api: string; token?: string };
  return new Client({ api: o.api, token: o.token });
}

interface Waited {
  status: Json;
  /** true when --timeout ran out before the upload was ready or failed */
  timedOut: boolean;
}

/** The longest `wait` GET /uploads/{id} accepts. */
const MAX_STATUS_WAIT_SECONDS = 20;

/** Asks with `?wait=` (the server answers once the state moves), so `ready` shows within a re-read of the commit. */
async function waitFor(c: Client, uploadId: string, timeoutMs: number, onState?: (state: string) => void): Promise<Waited> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let hiccups = 0;
  for (;;) {
    const wait = Math.max(0, Math.min(MAX_STATUS_WAIT_SECONDS, Math.floor((deadline - Date.now()) / 1000)));
    let s: Json;
    try {
      s = await c.json<Json>('GET', `/uploads/${encodeURIComponent(uploadId)}?wait=${wait}`);
      hiccups = 0;
    } catch (e) {
      // a server error or a dropped connection while waiting says nothing about the upload: retry a few times
      const transient = e instanceof UnreachableError || (e instanceof ApiError && e.status >= 500);
      if (!transient || ++hiccups > 5 || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250 * hiccups));
      continue;
    }
    if (s.state !== last) onState?.(s.state);
    last = s.state;
    if (s.state === 'ready' || s.state === 'failed' || s.state === 'expired') return { status: s, timedOut: false };
    if (Date.now() >= deadline) return { status: s, timedOut: true };
    // a wait of 0 (under a second left) answers at once: pause instead of spinning
    if (wait === 0) await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
  }
}

function printStatus(s: Json, io: Out): void {
  const w = (l: string) => io.out.write(l + '\n');
  if (s.state === 'failed' || s.state === 'expired') {
    const e = s.error ?? {};
    io.err.write(`error: ${e.code}: ${e.message}${e.line ? ` (line ${e.line}${e.column ? `, column ${e.column}` : ''})` : ''}\n`);
    return;
  }
  w(`upload ${s.upload_id}: ${s.state}`);
  if (s.state !== 'ready') return;
  const d = s.dataset;
  w(`dataset ${d.name} — version ${d.version}, ${s.row_count} rows ingested, ${d.row_count ?? '?'} rows in total, ${d.objects.length} object(s)`);
  const report = new Map<string, Json>((s.report?.columns ?? []).map((c: Json) => [c.name, c]));
  w(table(['column', 'type', 'why'], d.schema.map((c: Json) => [c.name, c.type, report.get(c.name)?.reason ?? ''])));
  const det = s.report?.detected;
  if (det) {
    const conf = s.report?.confidence ?? {};
    const runner = conf.runner_up ? ` (runner-up: delimiter ${JSON.stringify(conf.runner_up.delimiter)}, score ${conf.runner_up.score} vs ${conf.score})` : '';
    const hinted = det.from_hints?.length ? ` · from your hints: ${det.from_hints.join(', ')}` : '';
    w(
      `detected: delimiter ${JSON.stringify(det.delimiter)}, quote ${JSON.stringify(det.quote)}, header ${det.header ? 'yes' : 'no'} (${conf.header ?? '?'}), ` +
        `${det.skip_lines} line(s) skipped before the table, ${det.encoding} · confidence ${conf.level ?? '?'}${runner}${hinted}`,
    );
  }
  for (const t of s.report?.transformations ?? []) {
    w(`changed: ${Object.entries(t as Json).map(([k, v]) => (k === 'kind' ? String(v) : `${k} ${String(v)}`)).join(', ')}`);
  }
  if (s.rejected_rows) w(`${s.rejected_rows} row(s) set aside: ${s.rejects_url}`);
  for (const n of s.report?.notes ?? []) w(`note: ${n}`);
  if (s.timings_ms) w(`timings (ms): ${Object.entries(s.timings_ms).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

interface UploadFlags {
  name?: string;
  nameFrom: 'file' | 'dir';
  jobs: number;
  mode: string;
  badRows: string;
  wait: boolean;
  timeout: number;
  json?: boolean;
  delimiter?: string;
  quote?: string;
  escape?: string;
  header?: boolean;
  skip?: number;
  encoding?: string;
  schemaChange?: string;
}

/** The CSV hints given as flags (`\t` may be typed as a two-character escape). */
function csvHints(o: UploadFlags): { csv?: Record<string, unknown> } {
  const ch = (v: string | undefined) => (v === '\\t' || v === 'tab' ? '\t' : v);
  const csv: Record<string, unknown> = {};
  if (o.delimiter !== undefined) csv.delimiter = ch(o.delimiter);
  if (o.quote !== undefined) csv.quote = o.quote;
  if (o.escape !== undefined) csv.escape = ch(o.escape);
  if (o.header !== undefined) csv.header = o.header;
  if (o.skip !== undefined) csv.skip_lines = o.skip;
  if (o.encoding !== undefined) csv.encoding = o.encoding;
  return Object.keys(csv).length ? { csv } : {};
}

function uploadBody(o: UploadFlags, name: string, file: string, size: number): Json {
  return {
    name,
    mode: o.mode,
    size,
    filename: path.basename(file),
    bad_rows: o.badRows,
    ...csvHints(o),
    ...(o.schemaChange ? { schema_change: o.schemaChange } : {}),
  };
}

/** One file: a byte progress bar (or progress lines), the upload's state changes, the dataset summary. */
async function uploadSingle(file: string, size: number, o: UploadFlags, cmd: Command, io: Out): Promise<void> {
  const name = o.name ?? nameFor(file, o.nameFrom);
  if (!name) throw new UsageError(`cannot make a dataset name from ${file}; give --name`);
  const c = client(cmd);
  const p = await c.json<Json>('POST', '/uploads', uploadBody(o, name, file, size));
  const started = Date.now();
  let bar: cliProgress.SingleBar | undefined;
  let lastPct = -1;
  if (io.err.isTTY) {
    bar = new cliProgress.SingleBar(
      { format: 'uploading [{bar}] {percentage}% | {sent}/{size} | {rate}/s | ETA {eta_formatted}', stream: io.err as NodeJS.WriteStream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(size, 0, { sent: human(0), size: human(size), rate: human(0) });
  }
  await c.put(p.url, file, size, p.headers ?? {}, (sent) => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    if (bar) bar.update(sent, { sent: human(sent), size: human(size), rate: human(sent / secs) });
    else {
      const pct = size ? Math.floor((sent / size) * 10) * 10 : 100;
      if (pct !== lastPct) {
        lastPct = pct;
        io.err.write(`uploaded ${pct}% (${human(sent)} of ${human(size)}, ${human(sent / secs)}/s)\n`);
      }
    }
  });
  bar?.stop();
  io.err.write(`uploaded ${human(size)} as upload ${p.upload_id}\n`);
  if (!o.wait) {
    io.out.write(`${p.upload_id}\n`);
    return;
  }
  const { status: s, timedOut } = await waitFor(c, p.upload_id, o.timeout * 1000, (state) => {
    if (!io.err.isTTY) io.err.write(`state: ${state}\n`);
  });
  if (timedOut) throw new UsageError(`gave up waiting after ${o.timeout} s; the upload is still ${s.state} (lakehouse status ${p.upload_id})`);
  if (o.json) io.out.write(JSON.stringify(s, null, 2) + '\n');
  else printStatus(s, io);
  if (s.state === 'failed' || s.state === 'expired') throw new ExitCode(1);
}

interface FileResult {
  file: string;
  name: string;
  size: number;
  /** ready · failed · uploaded (--no-wait) · the last state seen when --timeout ran out */
  state: string;
  upload_id?: string;
  rows?: number;
  rejected_rows?: number;
  version?: number;
  error?: { code: string; message: string; line?: number; column?: number };
}

function errorText(e: FileResult['error']): string {
  if (!e) return '';
  const at = [e.line ? `line ${e.line}` : '', e.column ? `column ${e.column}` : ''].filter(Boolean).join(', ');
  return `${e.code}: ${e.message}${at ? ` (${at})` : ''}`;
}

/**
 * Several files (or directories, or globs): names derived and checked before anything is sent,
 * --jobs files in flight at a time (upload, then wait for the ingest), one progress display,
 * per-file results at the end. Files going to the same dataset (--mode append) go one after another.
 */
async function uploadMany(paths: string[], o: UploadFlags, cmd: Command, io: Out): Promise<void> {
  let files;
  try {
    files = await expandInputs(paths);
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(e.message);
    throw e;
  }
  if (o.name !== undefined && !NAME_RE.test(o.name)) throw new UsageError(`invalid dataset name ${JSON.stringify(o.name)}: names must match ${NAME_RE.source}`);
  const items = files.map((f) => ({ ...f, name: o.name?.toLowerCase() ?? nameFor(f.file, o.nameFrom) }));
  const unnamed = items.filter((i) => !i.name);
  if (unnamed.length) throw new UsageError(`cannot make a dataset name from ${unnamed.map((i) => i.file).join(', ')}; rename the file(s) or use --name-from`);
  const groups = new Map<string, typeof items>();
  for (const i of items) groups.set(i.name!, [...(groups.get(i.name!) ?? []), i]);
  if (o.mode === 'replace') {
    const clashes = [...groups].filter(([, g]) => g.length > 1);
    if (clashes.length) {
      const shown = clashes.slice(0, 10).map(([n, g]) => `  ${n} ← ${g.map((i) => i.file).join(', ')}`);
      if (clashes.length > 10) shown.push(`  … and ${clashes.length - 10} more`);
      throw new UsageError(
        `${clashes.length} dataset name(s) would be written by more than one file; with --mode replace only the last would remain:\n${shown.join('\n')}\n` +
          `nothing was uploaded. Rename the files, use --name-from ${o.nameFrom === 'file' ? 'dir' : 'file'}, or --mode append.`,
      );
    }
  }

  const c = client(cmd);
  const total = items.length;
  const totalBytes = items.reduce((a, i) => a + i.size, 0);
  const started = Date.now();
  let sentBytes = 0;
  let ok = 0;
  let failed = 0;
  const results: FileResult[] = new Array(total);
  const index = new Map(items.map((it, k) => [it, k]));
  const rate = () => human(sentBytes / Math.max(0.001, (Date.now() - started) / 1000));
  const payload = () => ({ ok, failed, sent: human(sentBytes), size: human(totalBytes), rate: rate() });

  io.err.write(`uploading ${total} file(s), ${human(totalBytes)}, to ${groups.size} dataset(s), ${Math.min(o.jobs, groups.size)} at a time\n`);
  let multi: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  if (io.err.isTTY) {
    multi = new cliProgress.MultiBar(
      {
        format: '[{bar}] {value}/{total} files | {ok} ok, {failed} failed | {sent}/{size} | {rate}/s | ETA {eta_formatted}',
        stream: io.err as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar = multi.create(total, 0, payload());
  }

  const finish = (r: FileResult) => {
    if (r.state === 'ready' || r.state === 'uploaded') ok++;
    else failed++;
    const what = r.error ? `${r.state}: ${errorText(r.error)}` : r.rows !== undefined ? `${r.state}, ${r.rows} rows` : r.state;
    if (bar) {
      bar.update(ok + failed, payload());
      if (r.error) multi!.log(`failed: ${r.file} → ${r.name}: ${errorText(r.error)}\n`);
    } else {
      io.err.write(`[${ok + failed}/${total}] ${r.file} → ${r.name}: ${what} · ${ok} ok, ${failed} failed · ${human(sentBytes)} of ${human(totalBytes)}, ${rate()}/s\n`);
    }
  };

  const one = async (it: (typeof items)[number]): Promise<FileResult> => {
    const r: FileResult = { file: it.file, name: it.name!, size: it.size, state: 'pending' };
    let sentHere = 0;
    try {
      const p = await c.json<Json>('POST', '/uploads', uploadBody(o, it.name!, it.file, it.size));
      r.upload_id = p.upload_id;
      r.state = 'uploading';
      await c.put(p.url, it.file, it.size, p.headers ?? {}, (sent) => {
        sentBytes += sent - sentHere;
        sentHere = sent;
        bar?.update(ok + failed, payload());
      });
      r.state = 'uploaded';
      if (!o.wait) return r;
      const { status: s, timedOut } = await waitFor(c, p.upload_id, o.timeout * 1000);
      r.state = s.state;
      if (timedOut) r.error = { code: 'timeout', message: `gave up waiting after ${o.timeout} s (lakehouse status ${p.upload_id})` };
      else if (s.state === 'ready') {
        r.rows = s.row_count;
        r.version = s.dataset?.version;
        if (s.rejected_rows) r.rejected_rows = s.rejected_rows;
      } else {
        const e = s.error ?? {};
        r.error = { code: e.code ?? 'failed', message: e.message ?? 'the ingest failed', ...(e.line ? { line: e.line } : {}), ...(e.column ? { column: e.column } : {}) };
      }
    } catch (e) {
      r.state = 'failed';
      const code = e instanceof ApiError ? e.code : e instanceof UnreachableError ? 'unreachable' : 'error';
      r.error = { code, message: (e as Error).message };
    }
    return r;
  };

  // --jobs lanes; each takes the next dataset's files and uploads them in order
  const queue = [...groups.values()];
  const lanes = Array.from({ length: Math.min(o.jobs, queue.length) }, async () => {
    for (let g = queue.shift(); g; g = queue.shift()) {
      for (const it of g) {
        const r = await one(it);
        results[index.get(it)!] = r;
        finish(r);
      }
    }
  });
  await Promise.all(lanes);
  if (multi) {
    bar!.update(ok + failed, payload());
    multi.stop();
  }

  const secs = (Date.now() - started) / 1000;
  if (o.json) io.out.write(JSON.stringify(results, null, 2) + '\n');
  else {
    const head = ['file', 'name', 'state', 'rows', 'error'];
    if (!o.wait) head.splice(3, 2, 'upload_id');
    io.out.write(
      table(
        head,
        results.map((r) => (o.wait ? [r.file, r.name, r.state, r.rows, r.rejected_rows ? `${r.rejected_rows} row(s) set aside` : errorText(r.error)] : [r.file, r.name, r.state, r.upload_id])),
      ) + '\n',
    );
  }
  io.err.write(
    `${total} file(s): ${ok} ${o.wait ? 'ready' : 'uploaded'}, ${failed} failed · ${human(totalBytes)} in ${secs.toFixed(1)} s (${human(totalBytes / Math.max(0.001, secs))}/s)\n`,
  );
  if (failed) {
    // nothing reached the API at all: say so as for one file
    if (!ok && results.every((r) => r.error?.code === 'unreachable')) {
      io.err.write(`error: ${results[0]!.error!.message}\n`);
      throw new ExitCode(3);
    }
    throw new ExitCode(1);
  }
}

export function program(io: Out): Command {
  const prog = new Command('lakehouse')
    .description('Upload CSV files to the Lakehouse, wait for ingest, and query them with SQL.')
    .addOption(new Option('--api <url>', 'API base URL').env('LAKEHOUSE_API').default('http://127.0.0.1:3000'))
    .addOption(new Option('--token <token>', 'bearer token (when the API requires one)').env('LAKEHOUSE_API_TOKEN'))
    // -V/--version is answered in main(): as a program option, commander would take `describe --version 1` for it
    .configureHelp({ visibleOptions: (cmd) => [...new Help().visibleOptions(cmd), ...(cmd.parent ? [] : [versionOption])] })
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .showHelpAfterError()
    .exitOverride();

  prog
    .command('upload')
    .description('upload CSV/TSV files (optionally gzipped) and wait until they are queryable')
    .argument('<paths...>', 'files, directories (walked for .csv/.tsv/.txt/.gz) or globs ("data/*.csv")')
    .option('-n, --name <name>', 'dataset name (default: from the file name, see --name-from); with several files, all go to this dataset')
    .addOption(new Option('--name-from <source>', 'derive each dataset name from the file name or its parent directory').choices(['file', 'dir']).default('file'))
    .option('-j, --jobs <n>', 'files uploaded and ingested at a time', jobsInt, 4)
    .addOption(new Option('-m, --mode <mode>', 'replace the dataset or append to it').choices(['replace', 'append']).default('replace'))
    .addOption(new Option('--bad-rows <policy>', 'fail on rows that do not fit, or set them aside').choices(['fail', 'quarantine']).default('fail'))
    .option('--delimiter <char>', 'CSV hint: the field delimiter (e.g. ";" or "\\t" for tab)')
    .option('--quote <char>', 'CSV hint: the quote character ("" for none)')
    .option('--escape <char>', 'CSV hint: the escape character inside quotes')
    .option('--header', 'CSV hint: the first line (after --skip) is a header')
    .option('--no-header', 'CSV hint: there is no header line')
    .option('--skip <lines>', 'CSV hint: lines to skip before the table', positiveInt)
    .addOption(new Option('--encoding <encoding>', 'CSV hint: the text encoding').choices(['utf-8', 'utf-16', 'windows-1252', 'latin-1']))
    .addOption(new Option('--schema-change <policy>', 'when the schema differs: fail, evolve it (with --mode append: add columns, widen types) or overwrite it (with --mode replace)').choices(['fail', 'evolve', 'overwrite']))
    .option('--no-wait', 'return once the files are uploaded')
    .option('--timeout <seconds>', 'how long to wait for the ingest of each file', positiveInt, 900)
    .option('--json', 'print the final status (several files: an array of per-file results) as JSON')
    .action(async (paths: string[], o: UploadFlags, cmd: Command) => {
      const one = paths.length === 1 ? fs.statSync(paths[0]!, { throwIfNoEntry: false }) : undefined;
      if (one?.isFile()) await uploadSingle(paths[0]!, one.size, o, cmd, io);
      else await uploadMany(paths, o, cmd, io);
    });

  prog
    .command('sql')
    .description('run one read-only SQL statement')
    .argument('[query]', 'the SQL text (or use --file)')
    .option('-f, --file <file>', 'read the SQL from a file ("-" for stdin)')
    .addOption(new Option('--format <format>', 'output format (default: table on a terminal, csv otherwise)').choices(['table', 'csv', 'json', 'ndjson']))
    .option('-l, --limit <n>', 'row cap', positiveInt)
    .option('-p, --param <value...>', 'positional parameters for ? / $1 placeholders (JSON values or text)')
    .action(async (query: string | undefined, o: { file?: string; format?: string; limit?: number; param?: string[] }, cmd: Command) => {
      let sql = query;
      if (o.file) {
        try {
          sql = fs.readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
        } catch {
          throw new UsageError(`cannot read ${o.file}`);
        }
      }
      if (!sql || !sql.trim()) throw new UsageError('give a query, or --file');
      const format = o.format ?? (io.out.isTTY ? 'table' : 'csv');
      const params = o.param?.map((v) => {
        try {
          return JSON.parse(v);
        } catch {
          return v;
        }
      });
      const c = client(cmd);
      const body = { sql, ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(params ? { params } : {}), format: format === 'table' ? 'json' : format };
      const res = await c.request('POST', '/sql', body);
      if (format === 'csv' || format === 'ndjson') {
        const url = res.headers.get('x-lakehouse-result-url');
        const text = url ? await (await fetch(url)).text() : await res.text();
        io.out.write(text);
        if (res.headers.get('x-lakehouse-truncated') === 'true') io.err.write(`(truncated at ${res.headers.get('x-lakehouse-row-count')} rows; raise --limit)\n`);
        return;
      }
      let r = (await res.json()) as Json;
      if (r.result_url && format === 'json') {
        const full = (await (await fetch(r.result_url)).json()) as Json;
        r = { ...r, rows: full.rows };
        delete r.rows_inline;
      }
      if (format === 'json') {
        io.out.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      io.out.write(table(r.columns.map((col: Json) => `${col.name}\n${col.type}`), r.rows) + '\n');
      const notes = [`${r.row_count} row(s)`, `${r.elapsed_ms} ms`];
      if (r.truncated) notes.push('truncated: raise --limit');
      if (r.result_url) notes.push(`${r.rows.length} shown; the full result: ${r.result_url}`);
      io.err.write(notes.join(' · ') + '\n');
    });

  prog
    .command('ls')
    .description('list datasets')
    .option('--json', 'print JSON')
    .option('--page-size <n>', 'datasets per request (1-1000)', positiveInt, 1000)
    .action(async (o: { json?: boolean; pageSize: number }, cmd: Command) => {
      // every page, following next_cursor (GET /catalog/manifests is paginated)
      const r: Json = { datasets: [], errors: [] };
      let cursor: string | undefined;
      do {
        const page = await client(cmd).json<Json>('GET', `/catalog/manifests?limit=${o.pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        r.datasets.push(...page.datasets);
        r.errors.push(...(page.errors ?? []));
        cursor = page.next_cursor;
      } while (cursor);
      if (!r.errors.length) delete r.errors;
      if (o.json) {
        io.out.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      io.out.write(
        table(
          ['dataset', 'rows', 'columns', 'objects', 'version', 'updated'],
          r.datasets.map((d: Json) => [d.name, d.row_count, d.schema.length, d.objects.length, d.version, d.updated_at]),
        ) + '\n',
      );
      for (const e of r.errors ?? []) io.err.write(`warning: ${e.name}: ${e.message}\n`);
    });

  prog
    .command('describe')
    .description("show a dataset's columns, objects and version")
    .argument('<name>')
    .option('--version <n>', 'an earlier version', positiveInt)
    .option('--json', 'print JSON')
    .action(async (name: string, o: { version?: number; json?: boolean }, cmd: Command) => {
      const q = o.version !== undefined ? `?version=${o.version}` : '';
      const m = await client(cmd).json<Json>('GET', `/catalog/manifests/${encodeURIComponent(name)}${q}`);
      if (o.json) {
        io.out.write(JSON.stringify(m, null, 2) + '\n');
        return;
      }
      io.out.write(`${m.name} (dataset_id ${m.dataset_id}) — version ${m.version}, ${m.row_count ?? '?'} rows, updated ${m.updated_at}\n`);
      io.out.write(`schema fingerprint ${m.schema_fingerprint}\n`);
      io.out.write(table(['column', 'type', 'nullable'], m.schema.map((c: Json) => [c.name, c.type, c.nullable])) + '\n');
      io.out.write(table(['object', 'size', 'rows'], m.objects.map((ob: Json) => [ob.key, human(ob.size), ob.row_count])) + '\n');
    });

  prog
    .command('drop')
    .description('drop a dataset (its objects are deleted by GC after the grace period)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const r = await client(cmd).json<Json>('DELETE', `/catalog/manifests/${encodeURIComponent(name)}`);
      if (o.json) io.out.write(JSON.stringify(r, null, 2) + '\n');
      else io.out.write(`dropped ${r.name} (its last version was ${r.dropped_version})\n`);
    });

  prog
    .command('status')
    .description("show an upload's status")
    .argument('<upload_id>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const s = await client(cmd).json<Json>('GET', `/uploads/${encodeURIComponent(id)}`);
      if (o.json) io.out.write(JSON.stringify(s, null, 2) + '\n');
      else printStatus(s, io);
      if (s.state === 'failed') throw new ExitCode(1);
    });

  return prog;
}

class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export async function main(argv: string[], io: Out = { out: process.stdout, err: process.stderr }): Promise<number> {
  const first = argv[2];
  if (first === '-V' || first === '--version') {
    io.out.write(`${VERSION}\n`);
    return 0;
  }
  const prog = program(io);
  try {
    await prog.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      io.err.write(`error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof UnreachableError) {
      io.err.write(`error: ${e.message}\n`);
      return 3;
    }
    if (e instanceof ApiError) {
      const extra = [e.body.line ? `line ${e.body.line}` : '', e.body.column ? `column ${e.body.column}` : ''].filter(Boolean).join(', ');
      io.err.write(`error: ${e.code}: ${e.message}${extra ? ` (${extra})` : ''}\n`);
      return 1;
    }
    io.err.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
