/**
 * `npm start` warms the functions a first visit goes through before it says it is running: the
 * presign and status functions (one HTTP request each, answered 400/404: what loads is the
 * function's bundle in its serverless-offline instance), the ingest function (a direct invocation
 * with `{"lakehouse_warmup": true}`, which also creates its DuckDB instance and the manifest
 * writer), the catalog listing (one dataset: its bundle and the newest catalog snapshot) and the
 * SQL engine (`SELECT 1`: its DuckDB). Without it the first upload after a start waited for three
 * cold instances, and the console's first listing and query for two more.
 * Best effort: a failure is reported and startup goes on. LAKEHOUSE_LOCAL_WARMUP=0 turns it off.
 */
export interface WarmupTargets {
  api: string;
  lambda: string;
  /** Deployed names of the functions invoked directly (the ingest). */
  direct: string[];
}

export const WARMUP_EVENT = { lakehouse_warmup: true } as const;
/** A warm-up never holds the start longer than this. */
const LIMIT_MS = 60_000;

async function timed(what: string, fn: () => Promise<unknown>): Promise<string> {
  const t = Date.now();
  try {
    await fn();
    return `${what} ${Date.now() - t} ms`;
  } catch (e) {
    return `${what} failed (${e instanceof Error ? e.message : String(e)})`;
  }
}

async function drain(r: Promise<Response>): Promise<void> {
  await (await r).arrayBuffer();
}

export async function warmUp(t: WarmupTargets): Promise<string[]> {
  return Promise.all([
    timed('status', () => drain(fetch(`${t.api}/uploads/lakehouse_warmup`, { signal: AbortSignal.timeout(LIMIT_MS) }))),
    timed('presign', () => drain(fetch(`${t.api}/uploads`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(LIMIT_MS) }))),
    timed('catalog', () => drain(fetch(`${t.api}/catalog/manifests?limit=1`, { signal: AbortSignal.timeout(LIMIT_MS) }))),
    timed('sql', () => drain(fetch(`${t.api}/sql`, { method: 'POST', body: '{"sql":"SELECT 1"}', signal: AbortSignal.timeout(LIMIT_MS) }))),
    ...t.direct.map((name) =>
      timed(name, () =>
        drain(
          fetch(`${t.lambda}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
            body: JSON.stringify(WARMUP_EVENT),
            signal: AbortSignal.timeout(LIMIT_MS),
          }),
        ),
      ),
    ),
  ]);
}
