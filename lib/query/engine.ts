/**
 * One in-memory DuckDB per container (Lambda) or worker thread (offline).
 *
 * Cold start: load every dataset's head manifest from the catalog (in parallel) and create one
 * typed, empty placeholder view per dataset — no data is downloaded. Before each query, the
 * datasets it references are checked for a newer catalog version (one LIST each: read-your-writes)
 * and made real: their objects are fetched into the local cache and the view is replaced by a
 * read_parquet over exactly that version's files, atomically, so a query never mixes versions.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { config } from '../config.js';
import { createInstance, sqlIdent, sqlString } from '../duckdb.js';
import { log } from '../log.js';
import { isValidName } from '../names.js';
import { readHead, readVersion, versionKey, CatalogCorruptError, mapLimit } from '../catalog/store.js';
import { catalogState } from '../catalog/listing.js';
import { keyExists } from '../storage/exists.js';
import { isDropped, normalizeType, type ObjectRef, type StoredManifest } from '../catalog/manifest.js';
import { isEvolved, readObjectsSql } from '../catalog/read-sql.js';
import { ObjectCache } from './cache.js';
import { selectObjects, type TableFilter } from './prune.js';
import { NativeTables } from './native-tables.js';
import { ConnectionPool } from './pool.js';

export interface MaterializeOptions {
  /** The statement's prunable filter (prune.ts) and the connection that runs it. */
  filter?: TableFilter;
  con?: DuckDBConnection;
  /** The caller's list of temp views made on `con`: filled as they are made, even if materialize then fails. */
  temps?: string[];
}

export interface Materialized {
  pins: string[];
  ddl: boolean;
  /** Temporary (pruned) views created on the request's connection: drop them with dropTemps. */
  temps: string[];
  /** Identifies the pruned views' file sets (part of statement cache keys). */
  pruneKey: string;
  scan: { objectsScanned: number; objectsTotal: number; bytesFetched: number };
}

/** Drops a request's pruned views, so the pooled connection sees the datasets' own views again. */
export async function dropTemps(con: DuckDBConnection, temps: string[]): Promise<void> {
  for (const t of temps) await con.run(`DROP VIEW IF EXISTS temp.main.${sqlIdent(t)}`);
}

/** `name@N`: version N of a dataset (time travel). */
const VERSIONED = /^(.+)@([1-9]\d{0,11})$/;

interface DatasetState {
  manifest: StoredManifest;
  /** The name SQL uses: the dataset's, or `name@N` for an earlier version (time travel). */
  view: string;
  checkedAt: number;
  /** Version whose files the view currently reads (undefined: placeholder view). */
  realVersion: number | undefined;
}

export class Engine {
  readonly instance: DuckDBInstance;
  readonly cache: ObjectCache;
  readonly scratchDir: string;
  readonly startedAt = Date.now();
  coldStartMs = 0;
  /** Removes the scratch directory (at exit, or when the engine is dropped). */
  removeScratch: () => void = () => undefined;
  private datasets = new Map<string, DatasetState>();
  /** Bumped whenever a dataset's view is redefined (part of cache keys for its statements). */
  private epochs = new Map<string, number>();
  /** Pooled connections and their compiled statements (pool.ts). */
  readonly connections: ConnectionPool;
  private locks = new Map<string, Promise<unknown>>();
  private setup!: DuckDBConnection;
  private ddlChain: Promise<unknown> = Promise.resolve();
  /** Wide datasets read from DuckDB tables instead of Parquet (native-tables.ts). */
  private native = new NativeTables(
    (sql) => this.ddl(sql),
    () => this.connections.lease(),
    (con) => this.connections.giveBack(con),
  );

  private constructor(instance: DuckDBInstance, cache: ObjectCache, scratchDir: string) {
    this.instance = instance;
    this.connections = new ConnectionPool(instance);
    this.cache = cache;
    this.scratchDir = scratchDir;
    cache.onEvict = (keys) => this.onEvict(keys);
  }

  static async create(): Promise<Engine> {
    const t0 = Date.now();
    const cfg = config();
    const cache = new ObjectCache(cfg.cacheDir, () => config().cacheMaxBytes);
    const scratchDir = fs.mkdtempSync(path.join(path.dirname(cache.dir), 's-'));
    const removeScratch = () => fs.rmSync(scratchDir, { recursive: true, force: true });
    process.once('exit', removeScratch);
    // no catalog at start: each query brings in the datasets it names (refresh), so a cold start
    // costs the same with 10 datasets or 10,000 (issue 13); SHOW TABLES lists them all (loadAll)
    const instance = await createInstance(`query-${process.pid}`);
    const engine = new Engine(instance, cache, scratchDir);
    engine.removeScratch = removeScratch;
    engine.setup = await instance.connect();
    await engine.setup.run(NativeTables.attachSql());
    await engine.lockDown();
    engine.coldStartMs = Date.now() - t0;
    log.info('query engine ready', { ms: engine.coldStartMs });
    return engine;
  }

  /**
   * Every live dataset known to this engine (for SHOW TABLES): the catalog listing's state (the
   * newest watermarked snapshot plus the changes since, lib/catalog/listing.ts), a view placeholder
   * for each dataset not seen yet, and the dropped ones forgotten.
   */
  async loadAll(): Promise<void> {
    const state = await catalogState();
    const live = new Set(state.manifests.map((m) => m.name));
    for (const name of [...this.datasets.keys()]) if (!live.has(name)) await this.exclusive(name, () => this.forget(name));
    for (const m of state.manifests) {
      if (this.datasets.has(m.name)) continue;
      await this.exclusive(m.name, async () => {
        if (this.datasets.has(m.name)) return;
        await this.ddl(this.placeholderSql(m), m.name);
        this.datasets.set(m.name, { manifest: m, view: m.name, checkedAt: Date.now(), realVersion: undefined });
      });
    }
  }

  /** DuckDB's own sandbox settings (the last layer of lib/query/sandbox.ts). */
  private async lockDown(): Promise<void> {
    const dirs = [this.cache.dir, this.scratchDir].map((d) => sqlString(d.endsWith('/') ? d : `${d}/`));
    for (const stmt of [
      `SET TimeZone = 'UTC'`,
      `SET allowed_directories = [${dirs.join(', ')}]`,
      `SET enable_external_access = false`,
      `SET autoinstall_known_extensions = false`,
      `SET autoload_known_extensions = false`,
      `SET enable_progress_bar = false`,
      `SET lock_configuration = true`,
    ]) {
      await this.setup.run(stmt);
    }
  }

  /** DDL on the setup connection, one statement at a time; bumps the dataset's view epoch. */
  private ddl(sql: string, dataset?: string): Promise<void> {
    if (dataset) this.epochs.set(dataset, (this.epochs.get(dataset) ?? 0) + 1);
    const run = this.ddlChain.then(async () => {
      await this.setup.run(sql);
    });
    this.ddlChain = run.catch(() => undefined);
    return run;
  }

  connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  /** Identifies the current definition of the named datasets' views. */
  viewEpochs(names: string[]): string {
    return names.map((n) => `${n}@${this.epochs.get(n) ?? 0}`).join(',');
  }

  isDataset(name: string): boolean {
    return this.datasets.has(name);
  }

  /** Known, and its view already reads its current version's files. */
  isMaterialized(name: string): boolean {
    const st = this.datasets.get(name);
    return st !== undefined && st.realVersion === st.manifest.version;
  }

  /** Wide datasets' versions held as DuckDB tables now (native-tables.ts; tests). */
  nativeTableCount(): number {
    return this.native.size();
  }

  /** The bytes (of Parquet objects) the held tables count against their budget (tests). */
  nativeBytes(): number {
    return this.native.bytes();
  }

  datasetNames(): string[] {
    return [...this.datasets.keys()];
  }

  private placeholderSql(m: StoredManifest, view = m.name): string {
    const cols = m.schema.map((c) => `CAST(NULL AS ${normalizeType(c.type) ?? 'VARCHAR'}) AS ${sqlIdent(c.name)}`);
    return `CREATE OR REPLACE VIEW ${sqlIdent(view)} AS SELECT ${cols.join(', ')} WHERE false`;
  }

  /** The view over a version's files (read-sql.ts: an evolved dataset's objects are read by schema). */
  private async viewSql(m: StoredManifest, objects: ObjectRef[], files: string[], view: string): Promise<string> {
    return `CREATE OR REPLACE VIEW ${sqlIdent(view)} AS ${await this.selectSql(m, objects, files)}`;
  }

  private async selectSql(m: StoredManifest, objects: ObjectRef[], files: string[]): Promise<string> {
    const con = await this.connections.lease();
    try {
      return await readObjectsSql(con, m, objects, files);
    } finally {
      this.connections.giveBack(con);
    }
  }

  /** Points the view at a version's files: a DuckDB table for a small wide dataset (native-tables.ts), else Parquet. */
  private async realView(view: string, m: StoredManifest, objects: ObjectRef[], files: string[]): Promise<void> {
    if (this.native.wants(m, objects)) {
      const single = files.length === 1 && !isEvolved(m, objects) ? { file: files[0]!, columns: m.schema.map((c) => c.name) } : undefined;
      const held = await this.native.load(view, m.version, objects, () => this.selectSql(m, objects, files), single).catch((e: unknown) => {
        // a table is only faster: if it cannot be made (memory, disk), the view reads the files
        log.warn('query engine: a wide dataset stays on its files', { dataset: view, reason: e instanceof Error ? e.message.slice(0, 200) : String(e) });
        return undefined;
      });
      if (held) {
        await this.ddl(`CREATE OR REPLACE VIEW ${sqlIdent(view)} AS ${NativeTables.readSql(held)}`, view);
        await this.native.settle(view, held);
        return;
      }
    }
    await this.ddl(await this.viewSql(m, objects, files, view), view);
    await this.native.settle(view, undefined);
  }

  /** Forgets a dataset and its time-travel views. */
  private async forget(name: string): Promise<void> {
    for (const [view, st] of [...this.datasets]) {
      if (view !== name && !(st.manifest.name === name && view.startsWith(`${name}@`))) continue;
      await this.ddl(`DROP VIEW IF EXISTS ${sqlIdent(view)}`, view);
      this.datasets.delete(view);
      await this.native.settle(view, undefined);
    }
  }

  /**
   * `name@N` (time travel): version N of the live dataset `name`, read-only. Versions never change,
   * so once known the view stays until the dataset is dropped or created again (the base's own
   * freshness check, done first, tells). Returns whether a view was created or removed.
   */
  private async refreshVersioned(view: string): Promise<boolean> {
    const [, name, v] = VERSIONED.exec(view)!;
    const base = this.datasets.get(name!);
    const cur = this.datasets.get(view);
    if (base && cur && cur.manifest.dataset_id === base.manifest.dataset_id) return false;
    let m: StoredManifest | undefined;
    if (base && Number(v) <= base.manifest.version) {
      m = await readVersion(name!, Number(v)).catch((e: unknown) => {
        if (e instanceof CatalogCorruptError) return undefined;
        throw e;
      });
    }
    if (!m || m.dataset_id !== base!.manifest.dataset_id || isDropped(m)) {
      if (!cur) return false;
      await this.ddl(`DROP VIEW IF EXISTS ${sqlIdent(view)}`, view);
      this.datasets.delete(view);
      await this.native.settle(view, undefined);
      return true;
    }
    await this.exclusive(view, async () => {
      await this.ddl(this.placeholderSql(m, view), view);
      this.datasets.set(view, { manifest: m, view, checkedAt: Date.now(), realVersion: undefined });
    });
    return true;
  }

  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    }
  }

  /**
   * Brings the named datasets up to their newest catalog version. For a known dataset the check is
   * one HEAD of the next version's key (versions are created in order, so if v+1 does not exist
   * nothing newer does); only when it exists, or for a dataset not seen yet, is the head listed and
   * read. Names that are not datasets are ignored. Returns whether any view changed.
   */
  async refresh(names: string[]): Promise<boolean> {
    const ttl = config().catalogTtlMs;
    let changed = false;
    const versioned = names.filter((n) => VERSIONED.test(n) && isValidName(VERSIONED.exec(n)![1]!));
    const plain = new Set([...names.filter((n) => isValidName(n)), ...versioned.map((n) => VERSIONED.exec(n)![1]!)]);
    await mapLimit(
      [...plain],
      16,
      async (name) => {
        const st = this.datasets.get(name);
        if (st && ttl > 0 && Date.now() - st.checkedAt < ttl) return;
        if (st && !(await keyExists(versionKey(name, st.manifest.version + 1), versionKey(name, st.manifest.version)))) {
          st.checkedAt = Date.now();
          return;
        }
        await this.exclusive(name, async () => {
          const cur = this.datasets.get(name);
          let m: StoredManifest | undefined;
          try {
            m = await readHead(name);
          } catch (e) {
            if (e instanceof CatalogCorruptError) {
              log.error('query engine: unreadable manifest, keeping the previous view', { dataset: name });
              return;
            }
            throw e;
          }
          if (!m) {
            // dropped since this engine saw it: the name is gone from SQL at once
            if (cur) {
              await this.forget(name);
              changed = true;
            }
            return;
          }
          if (cur && cur.manifest.version >= m.version) {
            cur.checkedAt = Date.now();
            return;
          }
          if (!cur || cur.manifest.schema_fingerprint !== m.schema_fingerprint || cur.realVersion === undefined) {
            await this.ddl(this.placeholderSql(m), name);
            await this.native.settle(name, undefined);
          }
          this.datasets.set(name, { manifest: m, view: name, checkedAt: Date.now(), realVersion: undefined });
          changed = true;
        });
      },
    );
    for (const view of versioned) if (await this.refreshVersioned(view)) changed = true;
    return changed;
  }

  /**
   * Fetches the objects of the named datasets (current versions) into the cache, pins them, and
   * points each view at exactly those files. Returns the pinned keys for release().
   */
  async materialize(names: string[], opts: MaterializeOptions = {}): Promise<Materialized> {
    const pinned: string[] = [];
    const temps: string[] = opts.temps ?? [];
    let ddl = false;
    const scan = { objectsScanned: 0, objectsTotal: 0, bytesFetched: 0 };
    const states = names.map((n) => this.datasets.get(n)).filter((s): s is DatasetState => !!s);
    // the objects each dataset's query needs: all, or those its filter lets through (prune.ts)
    const chosen = new Map(states.map((st) => [st.view, opts.con && opts.filter?.table === st.view ? selectObjects(st.manifest, opts.filter) : st.manifest.objects]));
    const bytes = states.reduce((n, s) => n + chosen.get(s.view)!.reduce((k, o) => k + o.size, 0), 0);
    let pruneKey = '';
    try {
      for (const st of states) {
        await this.exclusive(st.view, async () => {
          const cur = this.datasets.get(st.view);
          if (!cur) return; // dropped meanwhile: the query fails as for any unknown table
          const m = cur.manifest;
          const objects = cur === st ? chosen.get(st.view)! : m.objects;
          const keys = objects.map((o) => o.key);
          scan.objectsTotal += m.objects.length;
          // a version held as a table needs none of its files (nor pruning: the table is local)
          if (cur.realVersion === m.version && this.native.holds(cur.view, m.version)) {
            scan.objectsScanned += m.objects.length;
            return;
          }
          scan.objectsScanned += objects.length;
          scan.bytesFetched += objects.filter((o) => !this.cache.has(o.key)).reduce((n, o) => n + o.size, 0);
          const files = await this.cache.acquire(keys, bytes);
          pinned.push(...keys);
          if (objects.length < m.objects.length) {
            // pruned: a view of this request's connection only, shadowing the dataset's
            const sql = files.length === 0 ? this.placeholderSql(m, cur.view) : await this.viewSql(m, objects, files, cur.view);
            await opts.con!.run(sql.replace(/^CREATE OR REPLACE VIEW /, 'CREATE OR REPLACE TEMP VIEW '));
            temps.push(cur.view);
            pruneKey += `${cur.view}:${crypto.createHash('sha1').update(keys.join('\n')).digest('hex')};`;
            return;
          }
          if (cur.realVersion === m.version) return;
          ddl = true;
          if (files.length === 0) {
            await this.ddl(this.placeholderSql(m, cur.view), cur.view);
            await this.native.settle(cur.view, undefined);
          } else {
            await this.realView(cur.view, m, objects, files);
          }
          cur.realVersion = m.version;
        });
      }
    } catch (e) {
      this.cache.release(pinned);
      throw e; // the temp views are the caller's to drop (opts.temps), or its connection to discard
    }
    return { pins: pinned, ddl, temps, pruneKey, scan };
  }

  release(keys: string[]): void {
    this.cache.release(keys);
  }

  private onEvict(keys: string[]): void {
    const gone = new Set(keys);
    for (const st of this.datasets.values()) {
      if (st.realVersion === undefined || this.native.holds(st.view, st.realVersion)) continue;
      if (st.manifest.objects.some((o) => gone.has(o.key))) st.realVersion = undefined;
    }
  }

  /** Local paths that must never appear in a message. */
  privatePaths(): string[] {
    return [this.cache.dir, this.scratchDir, path.dirname(this.cache.dir), config().tmpDir];
  }
}

let engine: Promise<Engine> | undefined;

export function getEngine(): Promise<Engine> {
  engine ??= Engine.create().catch((e) => {
    engine = undefined;
    throw e;
  });
  return engine;
}

/** For tests: drop the engine so the next query cold-starts a new one. */
export async function resetEngine(): Promise<void> {
  const e = engine;
  engine = undefined;
  if (e) {
    try {
      const dropped = await e;
      dropped.instance.closeSync();
      process.removeListener('exit', dropped.removeScratch);
      dropped.removeScratch();
      dropped.cache.dispose();
    } catch {
      /* already closed */
    }
  }
}
