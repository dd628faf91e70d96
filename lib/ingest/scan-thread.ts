/**
 * The main thread's side of the threaded scan (scan-worker.ts; ADR 0014): the download publishes
 * how many bytes are on disk in a SharedProgress, the worker scans up to there and blocks until
 * more arrive. The result is the same ScanResult the main-thread scan returns (structured clone).
 * With planAndScanInThread the worker first plans the table from the text's head and sends the
 * plan back. Workers are kept between jobs (one job at a time each).
 *
 * Where the worker's code comes from: in the Lambda bundles, a string the bundler put there
 * (scripts/esbuild-plugins.cjs defines __LAKEHOUSE_SCAN_WORKER__); from the sources (tests, tsx
 * scripts), scan-worker.ts run through tsx. When no worker can start, the caller scans on the main
 * thread instead (WorkerUnavailable), as the `scan` mode does.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { config } from '../config.js';
import { LakehouseError } from '../errors.js';
import { log } from '../log.js';
import { GROWING_CHUNK } from './scan-file.js';
import type { ScanOptions, ScanResult } from './scan.js';
import type { ErrorData, PlanData, WorkerJob } from './scan-worker.js';
import type { Plan } from './plan.js';
import type { TextFile } from './text.js';
import type { CsvHints } from './detect.js';
import type { BadRows } from './status.js';

declare const __LAKEHOUSE_SCAN_WORKER__: string | undefined;

/** Bytes on disk from offset 0, shared with the worker; or the download's failure. */
export class SharedProgress {
  readonly array = new BigInt64Array(new SharedArrayBuffer(16));

  set(bytes: number): void {
    Atomics.store(this.array, 0, BigInt(bytes));
    Atomics.notify(this.array, 0);
  }

  fail(): void {
    Atomics.store(this.array, 1, 1n);
    Atomics.notify(this.array, 0);
  }
}

/** Uploads smaller than this are scanned on the main thread: a worker's start costs more than it saves. */
const THREAD_MIN_BYTES = 4 * 1024 * 1024;

/** Whether an upload of `size` bytes is planned and scanned in a worker (LAKEHOUSE_INGEST_OVERLAP=thread). */
export function scansInThread(size: number): boolean {
  return config().ingestOverlap === 'thread' && size >= THREAD_MIN_BYTES;
}

/** No worker thread could run the scan (its code is missing or would not load). */
export class WorkerUnavailable extends Error {}

/**
 * For tests: `unavailable` makes every worker start fail as if its code were missing; `started`
 * counts workers started, `jobs` the jobs run in one.
 */
export const scanThreadHooks = { unavailable: false, started: 0, jobs: 0 };

/**
 * Idle workers, kept for the next job: a new worker compiles the planner and the scanner anew, and
 * with a worker per upload the 56 MB upload's scan ended 670–840 ms after the PUT instead of ~500.
 * At most two are kept; they do not keep the process alive.
 */
const idle: Worker[] = [];
const MAX_IDLE = 2;

function startWorker(): Worker {
  scanThreadHooks.started++;
  let w: Worker;
  if (typeof __LAKEHOUSE_SCAN_WORKER__ === 'string') w = new Worker(__LAKEHOUSE_SCAN_WORKER__, { eval: true });
  else {
    // from the sources: the sibling module through tsx's require hook (a bundle without the string has no import.meta.url: this throws)
    const entry = fileURLToPath(new URL('./scan-worker.ts', import.meta.url));
    w = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});`, { eval: true });
  }
  w.once('exit', () => {
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
  });
  // an idle worker that fails (out of memory, say) is dropped; unheard, its 'error' would end the
  // process. A job's own listener (run) fails the job.
  w.on('error', (e) => {
    if (idle.includes(w)) log.warn('ingest: an idle scan worker failed; it is dropped', { err: e });
    void w.terminate();
  });
  return w;
}

function acquire(): Worker {
  if (scanThreadHooks.unavailable) throw new Error('no scan worker (test hook)');
  const w = idle.pop() ?? startWorker();
  w.ref();
  return w;
}

/** For tests: the idle workers. */
export function idleWorkers(): readonly Worker[] {
  return idle;
}

/** For tests: ends the idle workers (the pool is then empty). */
export async function closeIdleWorkers(): Promise<void> {
  await Promise.all(idle.splice(0).map((w) => w.terminate()));
}

/**
 * Starts a worker ahead of a job unless one is idle, so that its start (a new V8 isolate, the
 * scanner's code) overlaps what comes first (the HEAD, the lease). A worker that fails to start
 * is dropped; the job then starts its own or scans on the main thread, as it would have.
 */
export function prestartWorker(): void {
  if (idle.length > 0 || scanThreadHooks.unavailable) return;
  let w: Worker;
  try {
    w = startWorker();
  } catch (e) {
    log.warn('ingest: a scan worker could not start ahead of the job', { err: e });
    return;
  }
  release(w);
}

function release(w: Worker): void {
  if (idle.length < MAX_IDLE) {
    w.unref();
    idle.push(w);
  } else void w.terminate();
}

/** The worker's error as the main thread throws it: a domain error as itself (same code and details). */
function thrown(e: ErrorData): Error {
  return e.lakehouse ? new LakehouseError(e.lakehouse.code, e.message, e.lakehouse.details) : new Error(`scan: ${e.message}`);
}

interface Settle<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: Error): void;
}

function settle<T>(): Settle<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Runs a worker job; `plan` is answered by the worker's { plan } message when the job plans. A
 * worker that cannot start, or ends without an answer, rejects what is pending with WorkerUnavailable.
 */
function run(job: WorkerJob): { plan: Settle<PlanData>; scan: Settle<ScanResult> } {
  const plan = settle<PlanData>();
  const scan = settle<ScanResult>();
  let planned = !('lakehousePlanScan' in job);
  let answered = false;
  const fail = (e: Error) => {
    answered = true;
    if (!planned) plan.reject(e);
    planned = true;
    scan.reject(e);
  };
  let worker: Worker;
  try {
    worker = acquire();
  } catch (e) {
    fail(new WorkerUnavailable(e instanceof Error ? e.message : String(e)));
    return { plan, scan };
  }
  scanThreadHooks.jobs++;
  const onMessage = (m: { plan?: PlanData; result?: ScanResult; error?: ErrorData }) => {
    if (m.plan) {
      planned = true;
      plan.resolve(m.plan);
      return;
    }
    done();
    if (m.result) {
      answered = true;
      scan.resolve(m.result);
    } else fail(thrown(m.error ?? { message: 'no answer' }));
    // the job is over (the worker posts its last message as it returns): ready for the next
    release(worker);
  };
  const onError = (e: Error) => {
    done();
    void worker.terminate();
    if (!answered) fail(new WorkerUnavailable(e.message));
  };
  const onExit = (code: number) => {
    done();
    if (!answered) fail(new WorkerUnavailable(`the scan worker exited (${code})`));
  };
  const done = () => {
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
  };
  worker.on('message', onMessage);
  worker.once('error', onError);
  worker.once('exit', onExit);
  worker.postMessage(job);
  return { plan, scan };
}

/** Scans bytes [start, end) of `file` in a worker thread as `progress` says they arrive. */
export function scanInThread(file: string, start: number, end: number, opts: ScanOptions, progress: SharedProgress): Promise<ScanResult> {
  return run({ lakehouseScan: { file, start, end, opts, progress: progress.array, chunkSize: GROWING_CHUNK } }).scan.promise;
}

/**
 * Plans the table from the text's head in a worker thread, then scans it there as the bytes
 * arrive: `plan` settles first (the same Plan planTable gives, or its error), `scan` with the pass.
 * When the worker cannot start, both reject with WorkerUnavailable (the caller plans and scans here).
 */
export function planAndScanInThread(
  text: TextFile,
  hints: CsvHints,
  badRows: BadRows,
  progress: SharedProgress,
): { plan: Promise<Plan>; scan: Promise<ScanResult> } {
  const r = run({ lakehousePlanScan: { text, hints, badRows, progress: progress.array, chunkSize: GROWING_CHUNK } });
  // a plan that fails also fails the scan: the caller may never wait for it
  r.scan.promise.catch(() => undefined);
  return { plan: r.plan.promise.then((p) => ({ ...p, text })), scan: r.scan.promise };
}

/** The plan from a worker that goes on to scan, or undefined when no worker can run (plan and scan here then). */
export async function planInThread(
  text: TextFile,
  hints: CsvHints,
  badRows: BadRows,
  progress: SharedProgress,
): Promise<{ plan: Plan; scan: Promise<ScanResult> } | undefined> {
  const t = planAndScanInThread(text, hints, badRows, progress);
  try {
    return { plan: await t.plan, scan: t.scan };
  } catch (e) {
    if (!(e instanceof WorkerUnavailable)) throw e;
    log.warn('ingest: no worker thread for the scan; planning and scanning on the main thread', { err: e });
    return undefined;
  }
}
