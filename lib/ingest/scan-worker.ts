/**
 * The whole-file scan in a worker thread (ADR 0014, `LAKEHOUSE_INGEST_OVERLAP=thread`): the same
 * ChunkedScan as on the main thread, waiting for each chunk's bytes on the download's shared
 * progress counter (scan-thread.ts) instead of a promise, so the download, which runs on the main
 * thread, is never held up by the scan, and the scan uses the CPU the download leaves idle. Given
 * the text's head instead of a plan, the worker first plans the table (plan.ts) and sends the plan
 * back before it scans: the ~60–80 ms of detection no longer delay the download's receiving.
 *
 * Entry point of its own: bundled into a string for the Lambda bundles (scripts/esbuild-plugins.cjs),
 * run from this file under tsx otherwise. The worker outlives a job, so its compiled code stays warm
 * for the next upload. Messages: in — one WorkerJob at a time; out — with a head to plan from, first
 * { plan } (or { error }); then one { result } or { error }.
 */
import { parentPort } from 'node:worker_threads';
import { LakehouseError } from '../errors.js';
import { ChunkedScan } from './scan-file.js';
import { planTable, scanOptions, type Plan } from './plan.js';
import type { CsvHints } from './detect.js';
import type { TextFile } from './text.js';
import type { ScanOptions } from './scan.js';
import type { BadRows } from './status.js';

interface Progress {
  /** [0]: bytes of the file on disk from offset 0; [1]: non-zero once the download failed. */
  progress: BigInt64Array;
  chunkSize: number;
}

/** Scan a planned range. */
export interface ScanJob extends Progress {
  file: string;
  start: number;
  end: number;
  opts: ScanOptions;
}

/** Plan from the text's head (its tail already on disk), then scan what the plan says. */
export interface PlanScanJob extends Progress {
  text: TextFile;
  hints: CsvHints;
  badRows: BadRows;
}

/** A plan as it crosses to the main thread: without the text, which the main thread has. */
export type PlanData = Omit<Plan, 'text'>;

/** A domain error crossing threads: rebuilt as the same LakehouseError on the other side. */
export interface ErrorData {
  message: string;
  lakehouse?: { code: string; details?: Record<string, unknown> };
}

function errorData(e: unknown): ErrorData {
  if (e instanceof LakehouseError) return { message: e.message, lakehouse: { code: e.code, details: e.details } };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** Blocks until bytes [0, pos) are on disk; false if the download failed meanwhile. */
function waitFor(progress: BigInt64Array, pos: number): boolean {
  const want = BigInt(pos);
  for (;;) {
    if (Atomics.load(progress, 1) !== 0n) return false;
    const have = Atomics.load(progress, 0);
    if (have >= want) return true;
    Atomics.wait(progress, 0, have, 1000);
  }
}

function scan(job: ScanJob): void {
  const pass = new ChunkedScan(job.file, job.start, job.end, job.opts, job.chunkSize);
  try {
    for (;;) {
      if (!waitFor(job.progress, pass.nextEnd())) {
        pass.close();
        parentPort!.postMessage({ error: { message: 'download failed' } });
        return;
      }
      if (!pass.step()) break;
    }
  } catch (e) {
    pass.close();
    parentPort!.postMessage({ error: errorData(e) });
    return;
  }
  parentPort!.postMessage({ result: pass.finish() });
}

function planThenScan(job: PlanScanJob): void {
  // the head arrives as a Uint8Array (structured clone): planTable reads it as a Buffer
  const h = job.text.head as Uint8Array;
  const text = { ...job.text, head: Buffer.from(h.buffer, h.byteOffset, h.byteLength) };
  let plan: Plan;
  try {
    plan = planTable(text, job.hints);
  } catch (e) {
    parentPort!.postMessage({ error: errorData(e) });
    return;
  }
  const { text: _text, ...data } = plan;
  parentPort!.postMessage({ plan: data satisfies PlanData });
  scan({ file: text.file, start: plan.start, end: plan.end, opts: scanOptions(plan, job.badRows), progress: job.progress, chunkSize: job.chunkSize });
}

/** A job as the main thread posts it: one at a time; the worker stays for the next (scan-thread.ts keeps it). */
export type WorkerJob = { lakehouseScan: ScanJob } | { lakehousePlanScan: PlanScanJob };

if (parentPort) {
  parentPort.on('message', (job: WorkerJob) => {
    if ('lakehouseScan' in job) scan(job.lakehouseScan);
    else planThenScan(job.lakehousePlanScan);
  });
}
