/**
 * The ingest reads the upload while it downloads (ADR 0014): the scan and DuckDB's conversion
 * (through a named pipe) start before the last byte is on disk. These tests hold the download
 * back byte by byte where the order matters, so they do not depend on how fast the machine is.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { scopedEnv } from './helpers/env.js';
import { freshBucket } from './helpers/s3.js';
import { upload, duckdb, deliver } from './helpers/ingest.js';
import { planTable, scanTable, TAIL_BYTES } from '../lib/ingest/analyze.js';
import { openText } from '../lib/ingest/text.js';
import { EarlyConversion } from '../lib/ingest/early.js';
import { IncomingFile } from '../lib/ingest/incoming.js';
import { headObject, listAll, putObject } from '../lib/storage/objects.js';
import { handler as ingest } from '../functions/ingest.js';
import { lambdaContext } from './helpers/lambda.js';
import { LakehouseError } from '../lib/errors.js';
import { scanFile } from '../lib/ingest/scan-file.js';
import { closeIdleWorkers, idleWorkers, planAndScanInThread, prestartWorker, scanInThread, scanThreadHooks, SharedProgress } from '../lib/ingest/scan-thread.js';
import { scanOptions } from '../lib/ingest/plan.js';

const setEnv = scopedEnv();
let work: string;
beforeAll(async () => {
  await freshBucket('stream');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A CSV of `rows` rows: integers, quoted text with delimiters, quotes and newlines, decimals. */
function bigCsv(rows: number, seed = 1): string {
  const out = ['id,label,amount,note'];
  let x = seed;
  for (let i = 1; i <= rows; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const note = i % 97 === 0 ? `"line one\nline ""two"", with comma"` : `plain ${x % 1000}`;
    out.push(`${i},"label ${x.toString(36)}, ok",${(x % 100000) / 100},${note}`);
  }
  return out.join('\n') + '\n';
}

/** A gate over a complete file: `available(pos)` waits until the test opens the gate that far. */
function gate(size: number) {
  let open = 0;
  const waiters: Array<{ pos: number; resolve: () => void }> = [];
  return {
    arriving: {
      size,
      get complete() {
        return open >= size;
      },
      available: (pos: number) =>
        Math.min(pos, size) <= open ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pos: Math.min(pos, size), resolve })),
    },
    openTo(pos: number) {
      open = Math.max(open, Math.min(pos, size));
      for (const w of waiters.splice(0)) {
        if (w.pos <= open) w.resolve();
        else waiters.push(w);
      }
    },
  };
}

async function parquetDigest(file: string): Promise<{ rows: number; digest: string }> {
  const con = await duckdb();
  try {
    const r = await con.runAndReadAll(
      `SELECT count(*)::BIGINT, md5(string_agg(concat_ws('|', id, label, amount::VARCHAR, note), '~' ORDER BY id)) FROM read_parquet('${file}')`,
    );
    const [rows, digest] = r.getRowsJson()[0] as [string, string];
    return { rows: Number(rows), digest };
  } finally {
    con.closeSync();
  }
}

describe('the conversion reads the file while it arrives', () => {
  beforeEach(() => setEnv('LAKEHOUSE_INGEST_OVERLAP', 'pipe'));

  it('converts through the pipe exactly what DuckDB converts from the finished file', async () => {
    const csv = bigCsv(240_000);
    const file = path.join(work, 'big.csv');
    fs.writeFileSync(file, csv);
    const size = Buffer.byteLength(csv);
    expect(size).toBeGreaterThan(8 * 1024 * 1024); // streamed from 8 MiB on
    const g = gate(size);
    g.openTo(2 * 1024 * 1024);
    const dir = fs.mkdtempSync(path.join(work, 'job-'));
    const text = await openText(file, dir, { arriving: g.arriving });
    const plan = planTable(text);
    const early = await EarlyConversion.start(plan, dir, g.arriving);
    expect(early?.streamed).toBe(true);
    // the rest of the file "arrives" while the scan and DuckDB wait for it
    const scanning = scanTable(plan, { badRows: 'fail', workDir: dir }, g.arriving.available);
    for (let pos = 2 * 1024 * 1024; pos <= size + 65536; pos += 65536) {
      g.openTo(pos);
      await new Promise((r) => setImmediate(r));
    }
    const a = await scanning;
    const rows = await early!.keep(a);
    expect(rows).toBe(240_000);
    expect(a.scan.records).toBe(240_000);

    // the same conversion from the finished file
    const dir2 = fs.mkdtempSync(path.join(work, 'job-'));
    const plan2 = planTable(await openText(file, dir2));
    const whole = await EarlyConversion.start(plan2, dir2);
    expect(whole?.streamed).toBe(false);
    expect(await whole!.keep(await scanTable(plan2, { badRows: 'fail', workDir: dir2 }))).toBe(240_000);
    const [piped, direct] = [await parquetDigest(early!.output), await parquetDigest(whole!.output)];
    expect(piped).toEqual(direct);
  });

  /** A streamed conversion of `file` of which only the first MiB has "arrived" (and never more). */
  async function stalledConversion(file: string): Promise<EarlyConversion> {
    const g = gate(fs.statSync(file).size);
    g.openTo(1024 * 1024 + 10);
    const dir = fs.mkdtempSync(path.join(work, 'job-'));
    const plan = planTable(await openText(file, dir, { arriving: g.arriving }));
    const early = await EarlyConversion.start(plan, dir, g.arriving);
    expect(early?.streamed).toBe(true);
    return early!;
  }

  it('a cancel while DuckDB waits on the pipe for bytes that never come returns (no hang)', async () => {
    const file = path.join(work, 'stalled.csv');
    fs.writeFileSync(file, bigCsv(240_000, 7));
    const early = await stalledConversion(file);
    await new Promise((r) => setTimeout(r, 200)); // DuckDB is now blocked reading the pipe
    await early.cancel(); // resolves: the pipe is closed under it
  });

  it('a cancel before DuckDB has opened the pipe returns too (20 times)', async () => {
    const file = path.join(work, 'early-cancel.csv');
    fs.writeFileSync(file, bigCsv(240_000, 8));
    for (let i = 0; i < 20; i++) await (await stalledConversion(file)).cancel();
  });
});

describe.each([['off'], ['scan'], ['pipe'], ['thread']])('a large upload through the real handler, LAKEHOUSE_INGEST_OVERLAP=%s', (mode) => {
  beforeEach(() => setEnv('LAKEHOUSE_INGEST_OVERLAP', mode));
  // whether the pipe is used depends on how much had arrived when the plan was made (the gated tests above pin that down)
  const conversion = { off: /^started while scanning/, scan: /^started while scanning/, thread: /^started while scanning/, pipe: /^(streamed while the file downloaded|started while scanning)/ }[mode]!;

  it('every value survives, and the report says how the conversion ran', async () => {
    const csv = bigCsv(150_000, 3);
    const workers = scanThreadHooks.jobs;
    const r = await upload(csv, { name: `streamed_big_${mode}` });
    expect(r.status.state).toBe('ready');
    // the scan ran in a worker thread in `thread` mode, and only there
    expect(scanThreadHooks.jobs - workers).toBe(mode === 'thread' ? 1 : 0);
    expect(r.status.row_count).toBe(150_000);
    expect(r.status.report.conversion).toMatch(conversion);
    expect(r.status.report.columns.map((c: { type: string }) => c.type)).toEqual(['BIGINT', 'VARCHAR', 'DOUBLE', 'VARCHAR']);
    // the cells, compared with DuckDB reading the source with the same types
    const src = path.join(work, 'src.csv');
    fs.writeFileSync(src, csv);
    const con = await duckdb();
    try {
      const q = (from: string) =>
        `SELECT md5(string_agg(concat_ws('|', id, label, amount::VARCHAR, note), '~' ORDER BY id)) FROM ${from}`;
      const want = await con.runAndReadAll(q(`read_csv('${src}', columns={'id':'BIGINT','label':'VARCHAR','amount':'DOUBLE','note':'VARCHAR'}, header=true, auto_detect=false, quote='"', escape='"', delim=',')`));
      const key = r.status.dataset.objects[0].key as string;
      const local = path.join(work, `streamed-${mode}.parquet`);
      const { downloadToFile } = await import('../lib/storage/objects.js');
      await downloadToFile(key, local);
      const got = await con.runAndReadAll(q(`read_parquet('${local}')`));
      expect(got.getRowsJson()).toEqual(want.getRowsJson());
    } finally {
      con.closeSync();
    }
  });

  it('a ragged row near the start of a large file fails the upload at that line', async () => {
    const lines = bigCsv(240_000, 5).split('\n');
    lines[40] = lines[40] + ',extra';
    const r = await upload(lines.join('\n'), { name: `ragged_big_${mode}` });
    expect(r.status.state).toBe('failed');
    expect(r.status.error.code).toBe('ragged_row');
    expect(r.status.error.line).toBe(41);
  });

  it('a type broken on the last line of a large file: the streamed conversion is discarded and the column is text', async () => {
    const csv = bigCsv(120_000, 9).replace(/\n$/, '\nN/A,"x",1.5,last\n');
    const r = await upload(csv, { name: `late_text_${mode}` });
    expect(r.status.state).toBe('ready');
    expect(r.status.row_count).toBe(120_001);
    expect(r.status.report.columns[0].type).toBe('VARCHAR');
    expect(r.status.report.conversion).toBe('after the scan');
  });
});

describe('the scan in a worker thread', () => {
  const opts = { dialect: { delimiter: 44, quote: 34, escape: 34, comment: -1, trim: false }, header: true, fields: 4, keepGoing: false };

  it('finds what the main-thread scan finds', async () => {
    const file = path.join(work, 'thread-same.csv');
    fs.writeFileSync(file, bigCsv(60_000, 21).replace('\n5,', '\n5,007,'));
    const progress = new SharedProgress();
    progress.set(fs.statSync(file).size);
    const inThread = await scanInThread(file, 0, fs.statSync(file).size, { ...opts, keepGoing: true }, progress);
    const here = scanFile(file, 0, fs.statSync(file).size, { ...opts, keepGoing: true });
    expect(inThread.records).toBe(59_999);
    expect(inThread.bad.length).toBe(1);
    expect(inThread).toEqual(here);
  });

  it('reads only bytes the download says are on disk: it waits, and stops when the download fails', async () => {
    const file = path.join(work, 'thread-wait.csv');
    fs.writeFileSync(file, bigCsv(40_000, 22));
    const size = fs.statSync(file).size;
    const progress = new SharedProgress();
    // the whole file is on disk, but the download has only "written" half of it
    progress.set(Math.floor(size / 2));
    const scan = scanInThread(file, 0, size, opts, progress);
    await new Promise((r) => setTimeout(r, 200));
    progress.fail();
    await expect(scan).rejects.toThrow('scan: download failed');
    // and with every byte there, the same pass finishes
    const done = new SharedProgress();
    const p = scanInThread(file, 0, size, opts, done);
    done.set(size);
    expect((await p).records).toBe(40_000);
  });

  it('plans in the worker what planTable plans here (a preamble, a footer, a semicolon file), then scans it the same', async () => {
    const file = path.join(work, 'thread-plan.csv');
    const body = bigCsv(50_000, 24).replace(/,/g, ';');
    fs.writeFileSync(file, `Exported 2026-11-30\n\n${body}Total;50000\n`);
    const size = fs.statSync(file).size;
    const text = await openText(file, work);
    const here = planTable(text, {});
    const progress = new SharedProgress();
    progress.set(size);
    const t = planAndScanInThread(text, {}, 'quarantine', progress);
    const plan = await t.plan;
    expect(plan).toEqual(here);
    expect(plan.detection.preambleLines).toBe(2);
    expect(plan.detection.footerLines).toBe(1);
    expect(String.fromCharCode(plan.detection.dialect.delimiter)).toBe(';');
    expect(await t.scan).toEqual(scanFile(file, here.start, here.end, scanOptions(here, 'quarantine')));
  });

  it('a plan that fails in the worker fails with the same domain error as here (code, message, details)', async () => {
    const file = path.join(work, 'thread-plan-fail.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n');
    const text = await openText(file, work);
    const hints = { skip_lines: 5 };
    const here = (() => {
      try {
        planTable(text, hints);
      } catch (e) {
        return e;
      }
    })() as LakehouseError;
    expect(here).toBeInstanceOf(LakehouseError);
    const progress = new SharedProgress();
    progress.set(fs.statSync(file).size);
    const t = planAndScanInThread(text, hints, 'fail', progress);
    const err = await t.plan.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakehouseError);
    expect({ code: (err as LakehouseError).code, message: (err as LakehouseError).message, details: (err as LakehouseError).details }).toEqual({
      code: here.code,
      message: here.message,
      details: here.details,
    });
    await expect(t.scan).rejects.toBe(err);
  });

  it('when no worker can start, the upload is scanned on the main thread and ingested the same', async () => {
    setEnv('LAKEHOUSE_INGEST_OVERLAP', 'thread');
    scanThreadHooks.unavailable = true;
    try {
      // large enough for the worker path (4 MiB and more): 60,000 rows (2.7 MB) never tried a worker
      const csv = bigCsv(150_000, 23);
      expect(Buffer.byteLength(csv)).toBeGreaterThanOrEqual(4 * 1024 * 1024);
      const { jobs } = scanThreadHooks;
      const r = await upload(csv, { name: 'no_worker' });
      expect(r.status.state).toBe('ready');
      expect(r.status.row_count).toBe(150_000);
      expect(scanThreadHooks.jobs).toBe(jobs);
      expect(r.status.report.columns.map((c: { type: string }) => c.type)).toEqual(['BIGINT', 'VARCHAR', 'DOUBLE', 'VARCHAR']);
    } finally {
      scanThreadHooks.unavailable = false;
    }
  });
});

describe('the download', () => {
  it('an object replaced between the HEAD and the GET is refused, not mixed', async () => {
    const key = `uploads/changed/${crypto.randomUUID()}.csv`;
    await putObject(key, Buffer.from('a,b\n1,2\n'));
    const head = (await headObject(key))!;
    await putObject(key, Buffer.from('a,b\n1,2\n3,4\n'));
    const inc = IncomingFile.start(key, path.join(work, 'changed.bin'), head, TAIL_BYTES);
    const err = await inc.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakehouseError);
    expect((err as LakehouseError).code).toBe('object_changed');
    await expect(inc.available(head.size)).rejects.toBeInstanceOf(LakehouseError);
  });

  it('an empty object: its bytes are "available" only once the local file exists', async () => {
    const key = `uploads/empty/${crypto.randomUUID()}.csv`;
    await putObject(key, Buffer.alloc(0));
    for (let i = 0; i < 20; i++) {
      const file = path.join(work, `empty-${i}.bin`);
      const inc = IncomingFile.start(key, file, (await headObject(key))!, TAIL_BYTES);
      await inc.available(2);
      expect(fs.statSync(file).size).toBe(0);
      await inc.done;
    }
  });

  it('a tail fetched ahead sits at its place, and waiters see bytes only once they are written', async () => {
    const body = Buffer.from(bigCsv(30_000, 11));
    const key = `uploads/tail/${crypto.randomUUID()}.csv`;
    await putObject(key, body);
    const head = (await headObject(key))!;
    const file = path.join(work, 'tail.bin');
    const inc = IncomingFile.start(key, file, head, TAIL_BYTES);
    await inc.tail;
    const fd = fs.openSync(file, 'r');
    const tail = Buffer.alloc(TAIL_BYTES);
    fs.readSync(fd, tail, 0, TAIL_BYTES, body.length - TAIL_BYTES);
    fs.closeSync(fd);
    expect(tail.equals(body.subarray(body.length - TAIL_BYTES))).toBe(true);
    await inc.available(body.length);
    await inc.done;
    expect(fs.readFileSync(file).equals(body)).toBe(true);
  });
});

describe('a warm-up invocation', () => {
  it('creates the ingest function\'s engines and writes nothing', async () => {
    const before = (await listAll('')).objects.length;
    const r = await ingest({ lakehouse_warmup: true }, lambdaContext('lakehouse-dev-ingest'));
    expect(r).toEqual({ results: [], warmed: true });
    expect((await listAll('')).objects.length).toBe(before);
  });

  it('leaves a scan worker that has planned and scanned, and the next large upload runs on it', async () => {
    setEnv('LAKEHOUSE_INGEST_OVERLAP', 'thread');
    await closeIdleWorkers();
    const { started, jobs } = scanThreadHooks;
    await ingest({ lakehouse_warmup: true }, lambdaContext('lakehouse-dev-ingest'));
    expect([scanThreadHooks.started - started, scanThreadHooks.jobs - jobs]).toEqual([1, 1]);
    const r = await upload(bigCsv(150_000, 29), { name: 'after_warmup' });
    expect(r.status.state).toBe('ready');
    expect([scanThreadHooks.started - started, scanThreadHooks.jobs - jobs]).toEqual([1, 2]);
  });

  it('without one idle, a large upload starts its worker ahead of the lease and runs on it (one worker, not two)', async () => {
    setEnv('LAKEHOUSE_INGEST_OVERLAP', 'thread');
    await closeIdleWorkers();
    const { started, jobs } = scanThreadHooks;
    const csv = bigCsv(150_000, 31);
    const r = await upload(csv, { name: 'prestarted' });
    expect(r.status.state).toBe('ready');
    expect([scanThreadHooks.started - started, scanThreadHooks.jobs - jobs]).toEqual([1, 1]);
    // the worker starts before the lease is taken: the event delivered again is skipped (already
    // ready) and still started one, which stays idle for the next upload
    await closeIdleWorkers();
    const again = (await deliver(process.env.LAKEHOUSE_BUCKET!, r.presign.key, Buffer.byteLength(csv))) as { results: Array<{ outcome: string }> };
    expect(again.results[0]?.outcome).toBe('skipped');
    expect([scanThreadHooks.started - started, scanThreadHooks.jobs - jobs]).toEqual([2, 1]);
  });

  it('an idle worker that fails is dropped, not left to end the process; the next upload starts another', async () => {
    setEnv('LAKEHOUSE_INGEST_OVERLAP', 'thread');
    await closeIdleWorkers();
    prestartWorker();
    const [w] = idleWorkers();
    expect(w).toBeDefined();
    const exited = new Promise((resolve) => w!.once('exit', resolve));
    // what an uncaught failure in the worker (out of memory, say) delivers to the main thread
    expect(() => w!.emit('error', new Error('the worker ran out of memory'))).not.toThrow();
    await exited;
    expect(idleWorkers()).toHaveLength(0);
    const { started } = scanThreadHooks;
    const r = await upload(bigCsv(150_000, 37), { name: 'after_failed_worker' });
    expect(r.status.state).toBe('ready');
    expect(scanThreadHooks.started - started).toBe(1);
  });
});
