/**
 * The whole-file scan in a worker thread (ADR 0014, `LAKEHOUSE_INGEST_OVERLAP=thread`): the same
 * ChunkedScan as on the main thread, waiting for each chunk's bytes on the download's shared
 * progress counter (scan-thread.ts) instead of a promise, so the download, which runs on the main
 * thread, is never held up by the scan, and the scan uses the CPU the download leaves idle.
 *
 * Entry point of its own: bundled into a string for the Lambda bundles (scripts/esbuild-plugins.cjs),
 * run from this file under tsx otherwise. Messages: in — workerData; out — one { result } or { error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkedScan } from './scan-file.js';
import type { ScanOptions } from './scan.js';

export interface ScanJob {
  file: string;
  start: number;
  end: number;
  opts: ScanOptions;
  /** [0]: bytes of the file on disk from offset 0; [1]: non-zero once the download failed. */
  progress: BigInt64Array;
  chunkSize: number;
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

function run(job: ScanJob): void {
  const pass = new ChunkedScan(job.file, job.start, job.end, job.opts, job.chunkSize);
  try {
    for (;;) {
      if (!waitFor(job.progress, pass.nextEnd())) {
        pass.close();
        parentPort!.postMessage({ error: 'download failed' });
        return;
      }
      if (!pass.step()) break;
    }
  } catch (e) {
    pass.close();
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
    return;
  }
  parentPort!.postMessage({ result: pass.finish() });
}

if (parentPort && (workerData as { lakehouseScan?: ScanJob } | undefined)?.lakehouseScan) {
  run((workerData as { lakehouseScan: ScanJob }).lakehouseScan);
}
