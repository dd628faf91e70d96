/**
 * The main thread's side of the threaded scan (scan-worker.ts; ADR 0014): the download publishes
 * how many bytes are on disk in a SharedProgress, the worker scans up to there and blocks until
 * more arrive. The result is the same ScanResult the main-thread scan returns (structured clone).
 *
 * Where the worker's code comes from: in the Lambda bundles, a string the bundler put there
 * (scripts/esbuild-plugins.cjs defines __LAKEHOUSE_SCAN_WORKER__); from the sources (tests, tsx
 * scripts), scan-worker.ts run through tsx. When no worker can start, the caller scans on the main
 * thread instead (WorkerUnavailable), as the `scan` mode does.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GROWING_CHUNK } from './scan-file.js';
import type { ScanOptions, ScanResult } from './scan.js';
import type { ScanJob } from './scan-worker.js';

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

/** No worker thread could run the scan (its code is missing or would not load). */
export class WorkerUnavailable extends Error {}

/** For tests: `unavailable` makes every worker start fail as if its code were missing; `started` counts workers started. */
export const scanThreadHooks = { unavailable: false, started: 0 };

function startWorker(job: ScanJob): Worker {
  if (scanThreadHooks.unavailable) throw new Error('no scan worker (test hook)');
  scanThreadHooks.started++;
  const options = { workerData: { lakehouseScan: job } };
  if (typeof __LAKEHOUSE_SCAN_WORKER__ === 'string') return new Worker(__LAKEHOUSE_SCAN_WORKER__, { ...options, eval: true });
  // from the sources: the sibling module through tsx's require hook (a bundle without the string has no import.meta.url: this throws)
  const entry = fileURLToPath(new URL('./scan-worker.ts', import.meta.url));
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});`, { ...options, eval: true });
}

/** Scans bytes [start, end) of `file` in a worker thread as `progress` says they arrive. */
export function scanInThread(file: string, start: number, end: number, opts: ScanOptions, progress: SharedProgress): Promise<ScanResult> {
  let worker: Worker;
  try {
    worker = startWorker({ file, start, end, opts, progress: progress.array, chunkSize: GROWING_CHUNK });
  } catch (e) {
    return Promise.reject(new WorkerUnavailable(e instanceof Error ? e.message : String(e)));
  }
  return new Promise<ScanResult>((resolve, reject) => {
    let answered = false;
    worker.once('message', (m: { result?: ScanResult; error?: string }) => {
      answered = true;
      if (m.result) resolve(m.result);
      else reject(new Error(`scan: ${m.error}`));
      void worker.terminate();
    });
    worker.once('error', (e) => {
      if (!answered) reject(new WorkerUnavailable(e.message));
      answered = true;
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new WorkerUnavailable(`the scan worker exited (${code})`));
      answered = true;
    });
  });
}
