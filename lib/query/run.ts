/**
 * POST /sql: validate → sandbox checks → refresh and materialise the referenced datasets →
 * prepare + bind (never interpolate) → stream rows that DuckDB has already encoded → inline body,
 * or the whole result spilled to results/<query_id>.<ext> with a presigned URL.
 *
 * The whole request runs against one deadline (LAKEHOUSE_SQL_TIMEOUT_MS): when it passes, the
 * connection is interrupted, every later phase refuses to start, and the caller gets the timeout
 * after a short grace even if some phase (a download, an upload) is still winding down; that late
 * work still releases its pins, removes its files and returns (or closes) its connection.
 */
import { v7 as uuidv7 } from 'uuid';
import type { DuckDBConnection } from '@duckdb/node-api';
import { config } from '../config.js';
import { log } from '../log.js';
import { dropTemps, getEngine, type Engine } from './engine.js';
import { resolveTables, type SqlShape } from './sandbox.js';
import { inspectCached } from './inspect-cache.js';
import { cleaner, mapDuckError, queryTimeout } from './duck-errors.js';
import { Deadline } from './deadline.js';
import { requestDir } from './spill.js';
import { names as namesOf, textStatement } from './statements.js';
import { textResult } from './text-result.js';
import { arrowResult } from './arrow-result.js';
import type { QueryResult, ScanFacts } from './result.js';
import type { SqlRequest } from './request.js';

export { parseSqlRequest, formatFromAccept, type Format, type SqlRequest } from './request.js';
export { mapDuckError } from './duck-errors.js';
export type { QueryResult } from './result.js';

/** How long a timed-out request waits for its work to wind down before answering anyway. */
const GRACE_MS = 1000;

const pending = new Set<Promise<unknown>>();

/** For tests: resolves once the work of every earlier request (late work included) has finished. */
export async function settled(): Promise<void> {
  while (pending.size) await Promise.allSettled([...pending]);
}

export async function runSql(req: SqlRequest): Promise<QueryResult> {
  const deadline = new Deadline(config().sqlTimeoutMs);
  const work = runPhases(req, deadline);
  const outcome = work.then(
    (r) => ({ r }),
    (e: unknown) => ({ e }),
  );
  pending.add(outcome);
  void outcome.finally(() => pending.delete(outcome));
  try {
    let done = await Promise.race([outcome, deadline.passed.then(() => undefined)]);
    if (!done) done = await Promise.race([outcome, new Promise<undefined>((r) => setTimeout(() => r(undefined), GRACE_MS).unref())]);
    if (!done) {
      log.warn('sql: answered the timeout before the request wound down');
      throw queryTimeout();
    }
    if ('e' in done) throw done.e;
    return done.r;
  } finally {
    deadline.cancel();
  }
}

/**
 * The names a statement reads that may be datasets (unqualified), lower-cased. A CTE's name counts
 * too: a CTE is only its own scope's, and the same name elsewhere in the statement may be a dataset
 * this engine has not seen yet (the engine loads datasets as queries name them).
 */
function candidateNames(shape: SqlShape): string[] {
  const names = shape.tables.filter((t) => !t.catalog && (!t.schema || t.schema.toLowerCase() === 'main')).map((t) => t.name.toLowerCase());
  return [...new Set(names)];
}

async function runPhases(req: SqlRequest, deadline: Deadline): Promise<QueryResult> {
  const started = Date.now();
  const queryId = uuidv7();
  const engine = await getEngine();
  deadline.check();
  const clean = cleaner(engine.privatePaths());
  const con = await engine.connections.lease();
  let running = true;
  const unregister = deadline.onExpire(() => {
    if (running) con.interrupt();
  });
  const scratch = requestDir(engine.scratchDir, queryId);
  let pins: string[] = [];
  const temps: string[] = [];
  let pruneKey = '';
  let scan: ScanFacts | undefined;
  try {
    const shape = await inspectCached(con, req.sql, clean);
    deadline.check();
    const candidates = candidateNames(shape);
    // SHOW TABLES names no table: it lists every dataset, so the engine learns them all first
    if (shape.schemaOnly && shape.tables.length === 0) await engine.loadAll();
    const userSql = req.sql.replace(/[\s;]+$/, '');
    const execute = () =>
      executeStatement({ engine, con, userSql, datasets: resolveTables(shape, (n) => engine.isDataset(n)), req, queryId, started, dir: scratch.dir, deadline, pruneKey, scan });
    const materialize = async () => {
      if (shape.schemaOnly) return;
      const needed = resolveTables(shape, (n) => engine.isDataset(n));
      const t0 = Date.now();
      const m = await engine.materialize(needed, { filter: shape.filter, con, temps });
      pins = m.pins;
      pruneKey = m.pruneKey;
      scan = { ...m.scan, materializeMs: Date.now() - t0 };
      deadline.check();
    };
    let result: QueryResult | undefined;
    // the freshness probe's own duration (Server-Timing `fresh`), however it overlaps the rest
    let freshMs: number | undefined;
    const probe = () => {
      const t0 = performance.now();
      return engine.refresh(candidates).finally(() => (freshMs = performance.now() - t0));
    };
    if (candidates.every((n) => engine.isMaterialized(n))) {
      // Warm path: every dataset is known and its data local. The freshness probe (one HEAD each)
      // starts first and runs while the query executes on the current version; if a newer version
      // turns out to exist, the result is discarded and the query runs again on it — so the answer
      // is never staler than the probe. (A dataset whose data is not local yet is probed first:
      // fetching a version that may be stale — say, from a cold engine's snapshot — costs more
      // than the HEAD.)
      const fresh = probe();
      fresh.catch(() => undefined);
      await materialize();
      const attempt = await execute().then(
        (r) => ({ r }),
        (error: unknown) => ({ error }),
      );
      if (!(await fresh)) {
        if ('error' in attempt) throw attempt.error;
        result = attempt.r;
      } else {
        engine.release(pins);
        pins = [];
        await dropTemps(con, temps);
        temps.length = 0;
      }
    } else {
      await probe();
    }
    if (!result) {
      deadline.check();
      await materialize();
      result = await execute();
    }
    log.debug('sql', { query_id: queryId, format: req.format, ms: Date.now() - started, row_count: result.rowCount });
    return freshMs === undefined ? result : { ...result, freshMs };
  } catch (e) {
    throw mapDuckError(e, clean, deadline.expired);
  } finally {
    running = false;
    unregister();
    engine.release(pins);
    scratch.remove();
    // an interrupted connection is not reused: its interrupt must not reach the next request; nor
    // is one whose pruned views could not be dropped (closing it drops them)
    let reusable = !deadline.expired;
    if (reusable && temps.length) reusable = await dropTemps(con, temps).then(() => true, () => false);
    if (reusable) engine.connections.giveBack(con);
    else engine.connections.discard(con);
  }
}

interface Execution {
  engine: Engine;
  con: DuckDBConnection;
  userSql: string;
  datasets: string[];
  req: SqlRequest;
  queryId: string;
  started: number;
  dir: () => string;
  deadline: Deadline;
  pruneKey: string;
  scan: ScanFacts | undefined;
}

async function executeStatement(x: Execution): Promise<QueryResult> {
  const { con, req, deadline } = x;
  deadline.check();
  const run = { req, queryId: x.queryId, started: x.started, dir: x.dir, deadline, scan: x.scan };
  if (req.format === 'arrow') {
    const s = await namesOf(con, x.userSql, req.params);
    const selectSql = `SELECT * ${s.from} LIMIT ${req.limit + 1}`;
    return arrowResult({ ...run, con, selectSql, names: s.names });
  }
  const compiled = await textStatement(x.engine, con, x.userSql, x.datasets, req, x.pruneKey);
  deadline.check();
  return textResult({ ...run, compiled });
}
