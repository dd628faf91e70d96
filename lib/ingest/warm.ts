/**
 * What a warm-up invocation (`{"lakehouse_warmup": true}`, sent by `npm start`) prepares beyond
 * DuckDB and the manifest writer, so that the first upload after a start does not pay for it:
 *
 * - the conditional-write probe of the bucket (three PUTs; lib/storage/conditional.ts), which the
 *   first lease would otherwise make, and with it the S3 client and its first connection;
 * - a scan worker (scan-thread.ts) that has already planned and scanned a small generated file,
 *   so the planner's and the scanner's code is compiled when the first large upload arrives. It
 *   stays idle in the pool, as a worker does after a job.
 *
 * The generated file is the function's own (a few hundred KB in its temp directory, removed after);
 * no upload, status record or dataset is touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compareAndSwapSupported } from '../storage/conditional.js';
import { openText } from './text.js';
import { planAndScanInThread, scansInThread, SharedProgress, WorkerUnavailable } from './scan-thread.js';

const WARM_ROWS = 4000;

/** A small CSV with a column of each type the scanner checks. */
function sampleCsv(): string {
  const lines = ['id,name,score,active,day,at,note'];
  for (let i = 1; i <= WARM_ROWS; i++) {
    const day = `20${String(10 + (i % 15)).padStart(2, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
    lines.push(`${i},name ${i % 97},${(i * 1.25).toFixed(2)},${i % 2 === 0},${day},${day} 0${i % 10}:1${i % 6}:00,${i % 5 === 0 ? '"a, quoted ""note"""' : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** Plans and scans the sample in a worker that then stays idle; false when no worker can run. */
export async function warmScanThread(dir: string): Promise<boolean> {
  const body = sampleCsv();
  // the same path a large upload takes, whatever the sample's own size
  if (!scansInThread(Number.MAX_SAFE_INTEGER)) return false;
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(dir, 'warmup-'));
  try {
    const file = path.join(work, 'sample.csv');
    fs.writeFileSync(file, body);
    const text = await openText(file, work, {});
    const progress = new SharedProgress();
    progress.set(Buffer.byteLength(body));
    const t = planAndScanInThread(text, {}, 'fail', progress);
    await t.plan;
    await t.scan;
    return true;
  } catch (e) {
    if (e instanceof WorkerUnavailable) return false;
    throw e;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The bucket's conditional-write support, probed now rather than by the first lease. */
export async function warmStorage(): Promise<void> {
  await compareAndSwapSupported();
}
