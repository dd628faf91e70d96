/**
 * Wide datasets held as DuckDB tables (issue 12): DuckDB 1.5's Parquet reader prepares every
 * column of a row group once per column read (the square of the width: 2.3 s to read one row of
 * 10,000 columns, 0.3 s from a table). So a dataset of at least NATIVE_MIN_COLUMNS columns is read
 * from its Parquet once, when a query first needs that version, into a table of an in-memory
 * database attached for this; its view then reads the table. Only small ones are held (their
 * objects NATIVE_MAX_BYTES at most, all of them NATIVE_BUDGET_BYTES at most: DuckDB spills them
 * to its temp directory past its memory limit); the others stay on Parquet.
 *
 * A table is dropped when its view moves to another version or the dataset is forgotten — never
 * while its view still reads it. A query already running on it keeps its snapshot (DuckDB's MVCC).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString, threadCount } from '../duckdb.js';
import { log } from '../log.js';
import type { StoredManifest, ObjectRef } from '../catalog/manifest.js';

export const NATIVE_DB = 'lakehouse_wide';
export const NATIVE_MIN_COLUMNS = 1000;
export const NATIVE_MAX_BYTES = 32 * 1024 * 1024;
export const NATIVE_BUDGET_BYTES = 128 * 1024 * 1024;
/** Columns read at once when a wide file is loaded in groups. */
export const GROUP_COLUMNS = 1000;

/** For tests: make every load fail after the work (as running out of memory would); a smaller budget. */
export const nativeTestHooks: { failLoad?: boolean; budgetBytes?: number } = {};

function bytesOf(objects: ObjectRef[]): number {
  return objects.reduce((n, o) => n + o.size, 0);
}

function tableName(name: string): string {
  return `${sqlIdent(NATIVE_DB)}.main.${sqlIdent(name)}`;
}

export interface Held {
  table: string;
  version: number;
  bytes: number;
}

export class NativeTables {
  private held = new Map<string, Held>();
  /** Bytes of the loads in progress, per view (reserved against the budget). */
  private loading = new Map<string, number>();
  private seq = 0;

  /**
   * `run`: DDL on the engine's setup connection (serialised with its other DDL); `lease` and
   * `giveBack`: pooled connections, on which the groups of a wide file are read side by side.
   */
  constructor(
    private readonly run: (sql: string) => Promise<void>,
    private readonly lease: () => Promise<DuckDBConnection>,
    private readonly giveBack: (con: DuckDBConnection) => void,
  ) {}

  /** The statement that attaches the database the tables live in (run before the engine locks its settings). */
  static attachSql(): string {
    return `ATTACH ':memory:' AS ${sqlIdent(NATIVE_DB)}`;
  }

  /**
   * The view's statement over a held table. The LIMIT that lets every row through keeps DuckDB's
   * late-materialisation pass off it: on a 10,000-column table that pass alone takes 1.5 s to plan
   * `ORDER BY … LIMIT` (0.2 s without); columns are still pruned through it.
   */
  static readSql(held: Held): string {
    return `SELECT * FROM ${held.table} LIMIT 9223372036854775807`;
  }

  /** Whether `view` reads a table holding `version`. */
  holds(view: string, version: number | undefined): boolean {
    return version !== undefined && this.held.get(view)?.version === version;
  }

  /** Whether this version (all of its objects) is one to hold as a table. */
  wants(m: StoredManifest, objects: ObjectRef[]): boolean {
    return m.schema.length >= NATIVE_MIN_COLUMNS && objects.length === m.objects.length && bytesOf(objects) <= NATIVE_MAX_BYTES;
  }

  /**
   * Loads a version's rows into a new table, if the budget allows (checked and reserved before any
   * wait, so loads running at once cannot pass it together): `select()` (read-sql.ts) as it is,
   * or — one file with the dataset's own schema — read GROUP_COLUMNS columns at a time and put
   * side by side. Undefined: over budget, nothing was done.
   */
  async load(
    view: string,
    version: number,
    objects: ObjectRef[],
    select: () => Promise<string>,
    single?: { file: string; columns: string[] },
  ): Promise<Held | undefined> {
    const bytes = bytesOf(objects);
    const others = [...this.held, ...this.loading].reduce((n, [v, h]) => (v === view ? n : n + (typeof h === 'number' ? h : h.bytes)), 0);
    if (others + bytes > (nativeTestHooks.budgetBytes ?? NATIVE_BUDGET_BYTES)) return undefined;
    this.loading.set(view, bytes);
    try {
      const id = ++this.seq;
      const table = tableName(`t${id}`);
      const sql = await select();
      if (nativeTestHooks.failLoad) {
        await this.run(`CREATE TABLE ${table} AS ${sql}`);
        await this.run(`DROP TABLE ${table}`);
        throw new Error('test: the table could not be made');
      }
      if (!single || single.columns.length <= GROUP_COLUMNS || single.columns.some((c) => c.startsWith('__rid'))) {
        await this.run(`CREATE TABLE ${table} AS ${sql}`);
      } else if (!(await this.loadGrouped(id, single.file, single.columns))) {
        await this.run(`CREATE TABLE ${table} AS ${sql}`);
      }
      return { table, version, bytes };
    } finally {
      this.loading.delete(view);
    }
  }

  /**
   * The Parquet reader's cost grows with the square of the columns read at once, so ten reads of
   * 1,000 columns cost less than one of 10,000 (1.3 s against 2.5 s on 2 cores, read two at a time). Each group keeps the file's
   * row numbers, and the side-by-side join checks that they line up row by row (a row out of line
   * raises an error: the plain read is used instead). Returns false when it fell back.
   */
  private async loadGrouped(id: number, file: string, columns: string[]): Promise<boolean> {
    const table = tableName(`t${id}`);
    const groups: string[] = [];
    try {
      const count = Math.ceil(columns.length / GROUP_COLUMNS);
      for (let g = 0; g < count; g++) groups.push(tableName(`t${id}_g${g}`));
      // each read is one thread's work (one row group): as many at once as DuckDB has threads
      let next = 0;
      let failed = false;
      const worker = async () => {
        const con = await this.lease();
        try {
          for (let g = next++; g < count && !failed; g = next++) {
            const cols = columns.slice(g * GROUP_COLUMNS, (g + 1) * GROUP_COLUMNS).map(sqlIdent).join(', ');
            await con.run(`CREATE TABLE ${groups[g]} AS SELECT file_row_number AS __rid${g}, ${cols} FROM read_parquet(${sqlString(file)}, file_row_number = true)`);
          }
        } catch (e) {
          failed = true;
          throw e;
        } finally {
          this.giveBack(con);
        }
      };
      // every reader has stopped before anything is dropped (a read still running would leave its table)
      const reads = await Promise.allSettled(Array.from({ length: Math.min(threadCount(), count) }, worker));
      for (const r of reads) if (r.status === 'rejected') throw r.reason;
      const rids = groups.map((_, g) => `__rid${g}`);
      const inLine = rids.slice(1).map((r) => `${r} = __rid0`).join(' AND ');
      await this.run(
        `CREATE TABLE ${table} AS SELECT * EXCLUDE (${rids.join(', ')}) FROM ${groups.join(' POSITIONAL JOIN ')} ` +
          `WHERE CASE WHEN ${inLine} THEN true ELSE error('lakehouse: rows out of line') END`,
      );
      return true;
    } catch (e) {
      log.warn('query engine: a wide dataset was read in one piece', { reason: e instanceof Error ? e.message.slice(0, 200) : String(e) });
      await this.run(`DROP TABLE IF EXISTS ${table}`);
      return false;
    } finally {
      for (const g of groups) await this.run(`DROP TABLE IF EXISTS ${g}`);
    }
  }

  /** Records that `view` now reads `table` (or a Parquet view: undefined), and drops what it read before. */
  async settle(view: string, now: Held | undefined): Promise<void> {
    const before = this.held.get(view);
    if (now) this.held.set(view, now);
    else this.held.delete(view);
    if (before && before.table !== now?.table) await this.run(`DROP TABLE IF EXISTS ${before.table}`);
  }

  /** Tables held, for tests and logs. */
  size(): number {
    return this.held.size;
  }

  /** Their objects' bytes (the budget's measure). */
  bytes(): number {
    return [...this.held.values()].reduce((n, h) => n + h.bytes, 0);
  }
}
