/** The sandbox inspection depends only on the statement's text: cached per text (LRU). */
import type { DuckDBConnection } from '@duckdb/node-api';
import { inspectSql, type SqlShape } from './sandbox.js';

const INSPECTED = new Map<string, SqlShape>();
const INSPECTED_MAX = 512;

export async function inspectCached(con: DuckDBConnection, sql: string, clean: (s: string) => string): Promise<SqlShape> {
  const hit = INSPECTED.get(sql);
  if (hit) {
    INSPECTED.delete(sql);
    INSPECTED.set(sql, hit);
    return hit;
  }
  const shape = await inspectSql(con, sql, clean);
  INSPECTED.set(sql, shape);
  if (INSPECTED.size > INSPECTED_MAX) INSPECTED.delete(INSPECTED.keys().next().value!);
  return shape;
}
