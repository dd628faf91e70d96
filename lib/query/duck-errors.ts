/** DuckDB errors → the API's typed errors, with local paths and credentials scrubbed. */
import { config } from '../config.js';
import { LakehouseError, badRequest, internal, timeout as timeoutError, unavailable } from '../errors.js';
import { log } from '../log.js';
import { redact } from '../redact.js';
import { duckMessage, forbiddenStatement } from './sandbox.js';

export function queryTimeout(): LakehouseError {
  const ms = config().sqlTimeoutMs;
  return timeoutError(`The query ran longer than ${ms} ms and was stopped.`, { timeout_ms: ms });
}

export function mapDuckError(e: unknown, clean: (s: string) => string, timedOut: boolean): LakehouseError {
  if (e instanceof LakehouseError) return e;
  const msg = clean(duckMessage(e));
  if (timedOut || /^INTERRUPT Error/i.test(msg)) return queryTimeout();
  if (/^Permission Error/i.test(msg)) return forbiddenStatement(`Not allowed: ${msg.replace(/^Permission Error:\s*/i, '')}`);
  if (/^Out of Memory Error/i.test(msg)) return unavailable('out_of_memory', 'The query needs more memory than this function has.');
  if (/^(Parser|Binder|Catalog|Conversion|Invalid Input|Out of Range|Not implemented|Constraint|Syntax|Invalid type|Invalid|Dependency|Sequence|Transaction|Mismatch Type) Error/i.test(msg)) {
    return badRequest('sql_error', msg);
  }
  log.error('sql: unexpected engine error', { detail: msg });
  return internal('The query failed inside the engine.');
}

/** Replaces the given local paths with <local> and Parquet paths with <file>, then redacts credentials. */
export function cleaner(privatePaths: string[]): (s: string) => string {
  const paths = privatePaths.filter(Boolean).sort((a, b) => b.length - a.length);
  return (s: string) => {
    let out = s;
    for (const p of paths) out = out.split(p).join('<local>');
    out = out.replace(/\/[^\s'"]*\.parquet/g, '<file>');
    return redact(out);
  };
}
