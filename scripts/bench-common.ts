/** What the bench scripts share: their options, an S3 client and the environment for the local stack's S3 server. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import type { Stack } from '../localstack/stack.js';

/** A bench's JSON results. */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The repository's root (results and generated data are written under it). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The bench's command-line options (`npm run bench:x -- --runs 9`). */
export function benchArgs<const O extends NonNullable<ParseArgsConfig['options']>>(options: O) {
  return parseArgs({ options }).values;
}

/** Writes a bench's results as JSON to `out` (relative to the repository's root). */
export function writeResults(out: string, results: unknown): void {
  const file = path.resolve(repoRoot, out);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

/** A client of the stack's embedded S3 server (its fixed local credentials). */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

/** The environment that points lib/ (in this process or a child) at a stack's bucket. */
export function stackEnv(stack: Pick<Stack, 's3' | 'bucket' | 'dataDir'>, endpoint = stack.s3): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LAKEHOUSE_BUCKET: stack.bucket,
    LAKEHOUSE_TMP_DIR: path.join(stack.dataDir, 'bench-tmp'),
    LAKEHOUSE_LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** The two-column schema (and its fingerprint) of the datasets the benches create by commit alone. */
export async function seedSchema(): Promise<{ schema: Array<{ name: string; type: string; nullable: boolean }>; fp: string }> {
  const { fingerprint } = await import('../lib/catalog/manifest.js');
  const schema = [
    { name: 'id', type: 'BIGINT', nullable: true },
    { name: 'label', type: 'VARCHAR', nullable: true },
  ];
  return { schema, fp: fingerprint(schema) };
}

/**
 * Busy CPU time of the whole machine so far, in core-milliseconds: every process and the kernel,
 * all cores (user + nice + system + irq + softirq of /proc/stat's first line; not idle, iowait
 * or steal). Undefined where there is no /proc/stat (`stat`: its text, for a test). Differences of two readings say how much
 * work a span cost, whichever process did it — on a machine where the S3 server shares the
 * cores, whether a path is slower for lack of overlap or for doing more.
 */
export function machineBusyMs(stat?: string): number | undefined {
  let text = stat;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/stat', 'utf8');
    } catch {
      return undefined;
    }
  }
  const line = text.split('\n', 1)[0]!;
  if (!/^cpu\s/.test(line)) return undefined;
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user! + nice! + system! + irq! + softirq!) * 1000) / clockTicks();
}

let ticks: number | undefined;
/** Kernel clock ticks per second (the unit of /proc/stat). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}
