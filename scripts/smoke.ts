/**
 * The G0 gate: the real stack as a user runs it, end to end.
 *   npm run smoke [-- --rows 50000] [--echo]
 * presign → PUT with curl → wait for ready → count(*) equals the rows → the seed's IL group-by
 * equals DuckDB reading the CSV directly → a schema-drift upload fails with schema_conflict and
 * the old data still answers → an unknown table is a 400. Exits non-zero on any mismatch and
 * stops everything it started.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { startStack, waitForUpload, type Stack } from '../localstack/stack.js';
import { generateWorkers, parseRows } from './gen-workers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const checks: Array<{ name: string; ok: boolean; detail: string }> = [];
function check(name: string, ok: boolean, detail = ''): void {
  checks.push({ name, ok, detail });
  process.stdout.write(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}\n`);
}

async function putWithCurl(url: string, file: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('curl', ['-sS', '-f', '-T', file, url, '-w', '%{http_code}', '-o', '/dev/null']);
    return `curl ${stdout.trim()}`;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') {
      // no curl on this machine: same request with fetch
      const r = await fetch(url, { method: 'PUT', body: fs.readFileSync(file) });
      if (!r.ok) throw new Error(`PUT ${r.status}`, { cause: e });
      return `fetch ${r.status} (curl not installed)`;
    }
    throw e;
  }
}

async function upload(stack: Stack, file: string, name: string): Promise<Json> {
  const size = fs.statSync(file).size;
  const p = (await (await fetch(`${stack.api}/uploads`, { method: 'POST', body: JSON.stringify({ name, size, filename: path.basename(file) }) })).json()) as Json;
  const how = await putWithCurl(p.url, file);
  const started = Date.now();
  const s = await waitForUpload(stack.api, p.upload_id, 600_000);
  return { ...s, put: how, waited_ms: Date.now() - started };
}

async function sql(stack: Stack, q: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${stack.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: q, limit: 100_000 }) });
  return { status: r.status, body: (await r.json()) as Json };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '50000' }, echo: { type: 'boolean', default: false } } });
  const rows = parseRows(values.rows!);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-smoke-'));
  const csv = path.join(dir, `workers_${rows}.csv`);
  let stack: Stack | undefined;
  try {
    const gen = await generateWorkers(rows, csv);
    process.stdout.write(`generated ${csv}: ${gen.rows} rows, ${(gen.bytes / 1e6).toFixed(1)} MB\n`);
    stack = await startStack({ echo: values.echo, dataDir: path.join(dir, 'stack') });
    process.stdout.write(`stack up: API ${stack.api}, S3 ${stack.s3}\n`);

    const s = await upload(stack, csv, 'workers');
    check('upload → ready', s.state === 'ready', `${s.put}; ready after ${s.waited_ms} ms; timings ${JSON.stringify(s.timings_ms ?? s.error)}`);

    const count = await sql(stack, 'SELECT count(*) AS n FROM workers');
    check('count(*) equals the rows in the file', count.status === 200 && count.body.rows?.[0]?.[0] === rows, `${JSON.stringify(count.body.rows)} vs ${rows}`);

    const seed = "SELECT role, count(*) AS n FROM workers WHERE state = 'IL' GROUP BY role ORDER BY role";
    const ours = await sql(stack, seed);
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    // docs/api.md: an empty VARCHAR cell is '' (DuckDB's own reader makes it NULL)
    const direct = (
      await con.runAndReadAll(`SELECT coalesce(role, '') AS role, count(*) AS n FROM read_csv('${csv}') WHERE state = 'IL' GROUP BY 1 ORDER BY 1`)
    ).getRowsJson() as Array<[string, string]>;
    con.closeSync();
    const same = JSON.stringify(ours.body.rows) === JSON.stringify(direct.map(([r, n]) => [r, Number(n)]));
    check("IL group-by equals DuckDB on the CSV", ours.status === 200 && same && direct.length > 0, `${direct.length} groups`);

    const drift = path.join(dir, 'drift.csv');
    fs.writeFileSync(drift, 'id,first_name,extra\n1,x,y\n');
    const d = await upload(stack, drift, 'workers');
    check('schema drift → failed + schema_conflict', d.state === 'failed' && d.error?.code === 'schema_conflict', JSON.stringify(d.error?.diff ?? d.error));
    const after = await sql(stack, 'SELECT count(*) AS n FROM workers');
    check('old data still answers', after.body.rows?.[0]?.[0] === rows, JSON.stringify(after.body.rows));

    const unknown = await sql(stack, 'SELECT * FROM no_such_table');
    check('unknown table → 400', unknown.status === 400 && unknown.body.error?.code === 'sql_error', `${unknown.status} ${unknown.body.error?.code}`);
  } catch (e) {
    check('smoke ran to completion', false, (e as Error).message.slice(0, 2000));
  } finally {
    const code = await stack?.stop();
    if (stack) check('stack stopped cleanly', code === 0, `exit ${code}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(`\nG0 smoke: ${checks.length - failed}/${checks.length} checks passed\n`);
  return failed ? 1 : 0;
}

void main().then((code) => process.exit(code));
