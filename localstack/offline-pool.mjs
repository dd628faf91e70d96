/**
 * A local-only serverless plugin: at most LAKEHOUSE_LOCAL_CONCURRENCY instances of each function
 * at a time under serverless-offline (default: the machine's cores, at least 2; `0` = no limit,
 * serverless-offline's own behaviour); further invocations wait, first come first served, for an
 * instance to finish, and run on it warm. Functions listed in `custom.offlinePool.unbounded`
 * (uploadStatus: a `?wait=` request holds its instance while it waits, doing nothing) are left
 * unbounded.
 *
 * Why: serverless-offline 14 starts a new instance — a worker thread that loads the function's
 * bundle, and for `sql` a DuckDB engine that reads the catalog and fetches the data — for every
 * invocation that finds no idle one, without bound. 32 concurrent /sql requests on a 2-core machine
 * meant 32 engines cold-starting at once (tens of CPU-seconds), answers past the 29 s timeout,
 * whose worker offline then terminates mid-query — and DuckDB's native binding aborting the whole
 * process ("terminate called after throwing an instance of 'Napi::Error'"): every connection reset.
 * Lambda itself bounds concurrency too (account and reserved concurrency); here the bound queues
 * instead of throttling, since one machine is all there is (docs/adr/0013-concurrent-engines.md).
 *
 * How: serverless-offline keeps its instances in LambdaFunctionPool; `get` returns an idle one or
 * a new one. It is wrapped (same module instance: the file offline itself imports) so that past
 * the bound it returns a stand-in that records the event and, on runHandler, waits for an idle
 * instance. The timeout of an invocation starts when it runs, not while it waits. Nothing of this
 * loads outside `sls offline` (the hooks are offline's own).
 */
import os from 'node:os';

function bound() {
  const raw = process.env.LAKEHOUSE_LOCAL_CONCURRENCY;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`LAKEHOUSE_LOCAL_CONCURRENCY must be a whole number ≥ 0, got "${raw}"`);
    return n;
  }
  return Math.max(2, os.availableParallelism());
}

let installed = false;

async function install(log, unbounded) {
  if (installed) return;
  installed = true;
  const max = bound();
  if (max === 0) return;
  const lambdaDir = new URL('./', import.meta.resolve('serverless-offline/lambda'));
  const { default: Pool } = await import(new URL('LambdaFunctionPool.js', lambdaDir).href);
  const { default: LambdaFunction } = await import(new URL('LambdaFunction.js', lambdaDir).href);

  /** functionKey → { instances we handed out (live), queue of waiting invocations, pool, definition } */
  const functions = new Map();
  const stateOf = (key) => {
    let s = functions.get(key);
    if (!s) functions.set(key, (s = { instances: new Set(), queue: [], pool: undefined, definition: undefined }));
    return s;
  };
  const keyOf = new WeakMap();
  const origGet = Pool.prototype.get;
  const origRun = LambdaFunction.prototype.runHandler;
  const origCleanup = LambdaFunction.prototype.cleanup;

  const take = (s, key) => {
    const fn = origGet.call(s.pool, key, s.definition);
    if (!s.instances.has(fn)) {
      s.instances.add(fn);
      keyOf.set(fn, key);
    }
    return fn;
  };

  /** Hands idle (or, below the bound, new) instances to waiting invocations, in order. */
  const dispatch = (key) => {
    const s = stateOf(key);
    while (s.queue.length) {
      const idle = [...s.instances].some((f) => f.status === 'IDLE');
      if (!idle && s.instances.size >= max) return;
      const start = s.queue.shift();
      start(take(s, key));
    }
  };

  Pool.prototype.get = function get(functionKey, functionDefinition) {
    // a function that only waits (GET /uploads/{id}?wait=) holds an instance without working
    if (unbounded.has(functionKey)) return origGet.call(this, functionKey, functionDefinition);
    const s = stateOf(functionKey);
    s.pool = this;
    s.definition = functionDefinition;
    const idle = [...s.instances].some((f) => f.status === 'IDLE');
    if (s.queue.length === 0 && (idle || s.instances.size < max)) return take(s, functionKey);
    // past the bound: a stand-in that runs on the next instance to be free
    let event;
    let clientContext;
    let hasContext = false;
    return {
      get status() {
        return 'BUSY';
      },
      setEvent(e) {
        event = e;
      },
      setClientContext(c) {
        clientContext = c;
        hasContext = true;
      },
      runHandler() {
        return new Promise((resolve, reject) => {
          s.queue.push((fn) => {
            // synchronous from here to runHandler: nobody else can take `fn` in between
            if (hasContext) fn.setClientContext(clientContext);
            fn.setEvent(event);
            fn.runHandler().then(resolve, reject);
          });
          dispatch(functionKey);
        });
      },
      async cleanup() {},
    };
  };

  LambdaFunction.prototype.runHandler = function runHandler(...args) {
    const run = origRun.apply(this, args);
    const key = keyOf.get(this);
    // once the instance is IDLE again (offline's own finally has run), the next waiter gets it
    if (key !== undefined) void run.then(() => dispatch(key), () => dispatch(key));
    return run;
  };

  LambdaFunction.prototype.cleanup = async function cleanup(...args) {
    const key = keyOf.get(this);
    try {
      return await origCleanup.apply(this, args);
    } finally {
      if (key !== undefined) {
        functions.get(key)?.instances.delete(this);
        dispatch(key);
      }
    }
  };
  log?.(`at most ${max} instances per function${unbounded.size ? ` (not ${[...unbounded].join(', ')})` : ''}; further invocations wait for one (LAKEHOUSE_LOCAL_CONCURRENCY)`);
}

export default class OfflinePool {
  constructor(serverless, _options, utils) {
    const say = utils?.log?.notice ? (m) => utils.log.notice(m) : undefined;
    // custom.offlinePool.unbounded: functions that wait rather than work, left to offline's own pool
    const unbounded = new Set(serverless?.service?.custom?.offlinePool?.unbounded ?? []);
    this.hooks = {
      'before:offline:start:init': () => install(say, unbounded),
      'before:offline:start': () => install(say, unbounded),
    };
  }
}
