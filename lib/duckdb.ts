/**
 * DuckDB instances with explicit, Lambda-friendly settings: home and temp directories under the
 * writable temp dir, a memory limit derived from the function's memory, a thread count.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { config, lambdaMemoryMb } from './config.js';

export function sqlString(s: string): string {
  if (s.includes('\0')) throw new Error('NUL byte in SQL string');
  return `'${s.replace(/'/g, "''")}'`;
}

export function sqlIdent(s: string): string {
  if (s.includes('\0')) throw new Error('NUL byte in SQL identifier');
  return `"${s.replace(/"/g, '""')}"`;
}

/** memory_limit for DuckDB: explicit setting, else ~70 % of the Lambda's memory, else DuckDB's default. */
export function memoryLimit(): string | undefined {
  const explicit = config().duckdbMemoryLimit;
  if (explicit) return explicit;
  const lambdaMb = lambdaMemoryMb();
  if (lambdaMb) return `${Math.max(128, Math.floor(lambdaMb * 0.7))}MB`;
  return undefined;
}

export function threadCount(): number {
  return config().duckdbThreads ?? Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
}

export async function createInstance(role: string, extra: Record<string, string> = {}): Promise<DuckDBInstance> {
  const base = path.join(config().tmpDir, 'duckdb', role);
  const home = path.join(base, 'home');
  const temp = path.join(base, 'spill');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(temp, { recursive: true });
  const mem = memoryLimit();
  return DuckDBInstance.create(':memory:', {
    home_directory: home,
    temp_directory: temp,
    threads: String(threadCount()),
    ...(mem ? { memory_limit: mem } : {}),
    ...extra,
  });
}
