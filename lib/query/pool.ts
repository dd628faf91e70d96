/**
 * The query engine's pooled DuckDB connections and, per connection, a small cache of compiled
 * statements (statements.ts): a connection is reused with its prepared statements, closed with them.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

const POOL_MAX = 8;

export class ConnectionPool {
  private idle: DuckDBConnection[] = [];
  private statementCaches = new WeakMap<DuckDBConnection, Map<string, unknown>>();

  constructor(private readonly instance: DuckDBInstance) {}

  /** A connection from the pool, or a new one. */
  async lease(): Promise<DuckDBConnection> {
    return this.idle.pop() ?? (await this.instance.connect());
  }

  giveBack(con: DuckDBConnection): void {
    if (this.idle.length < POOL_MAX) this.idle.push(con);
    else con.closeSync();
  }

  /** Closes a connection instead of pooling it (after an interrupt), with its cached statements. */
  discard(con: DuckDBConnection): void {
    for (const v of this.statementCaches.get(con)?.values() ?? []) {
      try {
        (v as { destroy?: () => void }).destroy?.();
      } catch {
        /* already gone */
      }
    }
    this.statementCaches.delete(con);
    con.closeSync();
  }

  /** A small LRU of values (compiled statements) tied to one connection. */
  cacheFor<T>(con: DuckDBConnection): Map<string, T> {
    let m = this.statementCaches.get(con);
    if (!m) {
      m = new Map();
      this.statementCaches.set(con, m);
    }
    return m as Map<string, T>;
  }
}
