/** The real `lakehouse` CLI as a subprocess against the real local stack (npm start). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { startStack, freePort, type Stack } from '../localstack/stack.js';
import { generateWorkers } from '../scripts/gen-workers.js';

const TOKEN = 'cli-test-token-7f3a';
let stack: Stack;
let dir: string;

function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.resolve('bin/lakehouse.js'), ...args],
      { env: { ...process.env, NODE_OPTIONS: '', LAKEHOUSE_API: stack.api, LAKEHOUSE_API_TOKEN: TOKEN, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

beforeAll(async () => {
  stack = await startStack({ env: { LAKEHOUSE_API_TOKEN: TOKEN, LAKEHOUSE_SQL_MAX_INLINE_BYTES: String(64 * 1024) } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (stack) fs.rmSync(stack.dataDir, { recursive: true, force: true });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lakehouse CLI', () => {
  it('upload: progress lines off a TTY, waits for ready, prints the dataset summary', async () => {
    const f = path.join(dir, 'sales.csv');
    fs.writeFileSync(f, 'id,region,amount,day\n1,north,10.5,2026-01-01\n2,south,7.25,2026-01-02\n3,north,,2026-01-03\n');
    const r = await cli(['upload', f, '--name', 'sales']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/uploaded 100% \(/);
    expect(r.err).toMatch(/state: ready/);
    expect(r.out).toMatch(/dataset sales — version 1, 3 rows ingested/);
    expect(r.out).toMatch(/amount\s*│\s*DOUBLE/);
    expect(r.out).toMatch(/timings \(ms\): download \d+/);
  });

  it('upload --mode append and --no-wait; status <id>', async () => {
    const f = path.join(dir, 'more.csv');
    fs.writeFileSync(f, 'id,region,amount,day\n4,east,1.5,2026-01-04\n');
    const r = await cli(['upload', f, '--name', 'sales', '--mode', 'append', '--no-wait']);
    expect(r.code).toBe(0);
    const id = r.out.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    let s = await cli(['status', id, '--json']);
    for (let i = 0; i < 100 && JSON.parse(s.out).state !== 'ready'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      s = await cli(['status', id, '--json']);
    }
    expect(JSON.parse(s.out)).toMatchObject({ state: 'ready', mode: 'append', dataset: { version: 2, row_count: 4 } });
    const human = await cli(['status', id]);
    expect(human.out).toMatch(/upload .*: ready/);
  });

  it('sql: machine formats off a TTY, a table on request, --file, params', async () => {
    const csv = await cli(['sql', 'SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY region']);
    expect(csv.code).toBe(0);
    expect(parseCsv(csv.out, { columns: true })).toEqual([
      { region: 'east', total: '1.5' },
      { region: 'north', total: '10.5' },
      { region: 'south', total: '7.25' },
    ]);
    const json = await cli(['sql', 'SELECT count(*) AS n FROM sales', '--format', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({ columns: [{ name: 'n', type: 'BIGINT' }], rows: [[4]] });
    const t = await cli(['sql', 'SELECT id, region FROM sales ORDER BY id', '--format', 'table', '--limit', '2']);
    expect(t.out).toMatch(/│ 1\s+│ north/);
    expect(t.err).toMatch(/2 row\(s\).*truncated/);
    const q = path.join(dir, 'q.sql');
    fs.writeFileSync(q, 'SELECT region FROM sales WHERE id = ?');
    const f = await cli(['sql', '--file', q, '--param', '2', '--format', 'ndjson']);
    expect(f.out.trim()).toBe('{"region":"south"}');
    const stdin = await cli(['sql', '--file', '-', '--format', 'csv'], {}, 'SELECT 1 AS one');
    expect(stdin.out).toBe('one\n1\n');
  });

  it('sql follows result_url for spilled results', async () => {
    const f = path.join(dir, 'w.csv');
    await generateWorkers(5000, f);
    expect((await cli(['upload', f, '--name', 'w'])).code).toBe(0);
    const r = await cli(['sql', 'SELECT * FROM w ORDER BY id', '--limit', '5000']);
    expect(r.code).toBe(0);
    const rows = parseCsv(r.out, { columns: true }) as Array<{ id: string }>;
    expect(rows).toHaveLength(5000);
    expect(rows[4999]!.id).toBe('5000');
    const j = await cli(['sql', 'SELECT id FROM w ORDER BY id', '--limit', '5000', '--format', 'json']);
    expect(JSON.parse(j.out).rows).toHaveLength(5000);
  });

  it('ls and describe [--version]', async () => {
    const ls = await cli(['ls']);
    expect(ls.out).toMatch(/│ sales\s+│ 4\s+│ 4\s+│ 2\s+│ 2/);
    const d = await cli(['describe', 'sales']);
    expect(d.out).toMatch(/sales \(dataset_id [0-9a-f-]+\) — version 2, 4 rows/);
    expect(d.out).toMatch(/day\s*│ DATE/);
    const v1 = await cli(['describe', 'sales', '--version', '1', '--json']);
    expect(JSON.parse(v1.out)).toMatchObject({ version: 1, row_count: 3 });
  });

  it('clear messages and exit codes for every kind of error', async () => {
    const bad = path.join(dir, 'ragged.csv');
    fs.writeFileSync(bad, 'a,b\n1,2\n3,4,5\n');
    const ragged = await cli(['upload', bad, '--name', 'ragged']);
    expect(ragged.code).toBe(1);
    expect(ragged.err).toMatch(/error: ragged_row: Line 3 .*\(line 3, column 3\)/);

    const name = await cli(['upload', bad, '--name', 'bad name']);
    expect(name.code).toBe(1);
    expect(name.err).toMatch(/error: invalid_name:/);

    const sqlErr = await cli(['sql', 'SELECT * FROM nowhere']);
    expect(sqlErr.code).toBe(1);
    expect(sqlErr.err).toMatch(/error: sql_error: Table "nowhere" does not exist/);

    const forbidden = await cli(['sql', "SELECT * FROM read_csv('/etc/passwd')"]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.err).toMatch(/forbidden_statement/);

    const missing = await cli(['describe', 'nothing_here']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/not_found/);

    const noToken = await cli(['ls'], { LAKEHOUSE_API_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.err).toMatch(/unauthorized/);

    const noFile = await cli(['upload', path.join(dir, 'nope.csv'), '--name', 'x']);
    expect(noFile.code).toBe(2);
    expect(noFile.err).toMatch(/no such file/);

    const flag = await cli(['sql', 'SELECT 1', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/unknown option '--frobnicate'/);

    const mode = await cli(['upload', bad, '--name', 'x', '--mode', 'merge']);
    expect(mode.code).toBe(2);

    const port = await freePort();
    const down = await cli(['ls'], { LAKEHOUSE_API: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/cannot reach the Lakehouse API at http:\/\/127\.0\.0\.1:\d+/);
  });
});
