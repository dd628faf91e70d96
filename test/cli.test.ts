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
  it('--help and --version answer quickly', async () => {
    const h = await cli(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Usage: lakehouse/);
    const v = await cli(['--version']);
    expect(v.out.trim()).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
  });

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

  it('upload with CSV hints: --delimiter --no-header --skip --encoding, and --schema-change overwrite fixes a wrong load', async () => {
    const f = path.join(dir, 'export.csv');
    fs.writeFileSync(f, Buffer.from('Exported by a legacy tool\nZ\xfcrich;1,5\nGen\xe8ve;2,25\n', 'latin1'));
    const r = await cli(['upload', f, '--name', 'hinted', '--delimiter', ';', '--no-header', '--skip', '1', '--encoding', 'windows-1252', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ state: 'ready', row_count: 2 });
    expect(s.report.detected).toMatchObject({ delimiter: ';', header: false, skip_lines: 1, encoding: 'windows-1252' });
    expect(s.report.detected.from_hints.sort()).toEqual(['delimiter', 'encoding', 'header', 'skip_lines']);
    const q = await cli(['sql', 'SELECT * FROM hinted ORDER BY 1', '--format', 'json']);
    expect(JSON.parse(q.out).rows).toEqual([
      ['Genève', '2,25'],
      ['Zürich', '1,5'],
    ]);
    // without hints the same file loads differently; a corrected replace needs --schema-change overwrite
    const human = await cli(['upload', f, '--name', 'hinted', '--delimiter', ';', '--header', '--skip', '1', '--encoding', 'windows-1252']);
    expect(human.code).toBe(1);
    expect(human.err).toMatch(/schema_conflict/);
    const fixed = await cli(['upload', f, '--name', 'hinted', '--delimiter', ';', '--header', '--skip', '1', '--encoding', 'windows-1252', '--schema-change', 'overwrite']);
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/detected: delimiter ";".*header yes \(hint\).*from your hints/);
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

  it('drop: the dataset is gone from describe and sql; dropping it again is not_found', async () => {
    const f = path.join(dir, 'gone.csv');
    fs.writeFileSync(f, 'id,label\n1,a\n');
    expect((await cli(['upload', f, '--name', 'gone'])).code).toBe(0);
    const d = await cli(['drop', 'gone']);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/dropped gone \(its last version was 1\)/);
    expect((await cli(['describe', 'gone'])).err).toMatch(/not_found/);
    expect((await cli(['sql', 'SELECT * FROM gone'])).err).toMatch(/sql_error: Table "gone" does not exist/);
    const again = await cli(['drop', 'gone']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/not_found/);
  });

  it('upload of a directory of 200 files: names from the files, --jobs, progress lines, a summary, every dataset queryable', async () => {
    const bulk = path.join(dir, 'bulk');
    fs.mkdirSync(path.join(bulk, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(bulk, 'README.md'), 'not a table\n'); // skipped by the directory walk
    for (let i = 0; i < 200; i++) {
      const sub = i % 2 ? 'nested' : '';
      fs.writeFileSync(path.join(bulk, sub, `Bulk File ${String(i).padStart(3, '0')}.csv`), `id,label,amount\n${i},x${i},${i}.5\n${i + 1000},y${i},1.25\n`);
    }
    const t0 = performance.now();
    const r = await cli(['upload', bulk, '--jobs', '8', '--header', '--timeout', '120']);
    if (r.code !== 0) process.stderr.write(r.err.slice(-4000));
    const ms = performance.now() - t0;
    process.stderr.write(`[cli.test] bulk upload of 200 files: ${Math.round(ms)} ms\n`);
    expect(r.err).toMatch(/^uploading 200 file\(s\), .* to 200 dataset\(s\), 8 at a time$/m);
    expect(r.err.match(/^\[\d+\/200\] .* → bulk_file_\d{3}: ready, 2 rows · \d+ ok, 0 failed/gm)).toHaveLength(200);
    expect(r.err).toMatch(/^\[200\/200\] /m);
    expect(r.err).toMatch(/^200 file\(s\): 200 ready, 0 failed · /m);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/│ file\s+│ name\s+│ state\s+│ rows\s+│ error/);
    expect(r.out).toMatch(/│ \S*bulk\/nested\/Bulk File 001\.csv\s+│ bulk_file_001\s+│ ready\s+│ 2\s+│/);
    const ls = await cli(['ls', '--json']);
    const names = (JSON.parse(ls.out).datasets as Array<{ name: string; row_count: number }>).filter((d) => d.name.startsWith('bulk_file_'));
    expect(names).toHaveLength(200);
    expect(names.every((d) => d.row_count === 2)).toBe(true);
    // the listing is paginated: small pages, followed by their cursors, give the same list
    const paged = await cli(['ls', '--json', '--page-size', '7']);
    expect(JSON.parse(paged.out)).toEqual(JSON.parse(ls.out));
    const q = await cli(['sql', 'SELECT (SELECT sum(amount) FROM bulk_file_000) + (SELECT sum(amount) FROM bulk_file_199) AS s']);
    expect(q.out).toBe('s\n202.5\n'); // (0.5 + 1.25) + (199.5 + 1.25)
  }, 600_000); // ~50 s on an idle 2-CPU machine; generous for a loaded one

  it('upload of several files: a name clash is refused before anything is sent; a failing file gives exit 1, the others ready', async () => {
    const a = path.join(dir, 'clash', 'a');
    const b = path.join(dir, 'clash', 'b');
    fs.mkdirSync(a, { recursive: true });
    fs.mkdirSync(b, { recursive: true });
    fs.writeFileSync(path.join(a, 'Orders.csv'), 'id,n\n1,2\n');
    fs.writeFileSync(path.join(b, 'orders.csv'), 'id,n\n3,4\n');
    const clash = await cli(['upload', path.join(dir, 'clash')]);
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(/1 dataset name\(s\) would be written by more than one file/);
    expect(clash.err).toMatch(/orders ← .*a\/Orders\.csv, .*b\/orders\.csv/);
    expect(clash.err).toMatch(/nothing was uploaded/);
    expect(clash.err).not.toMatch(/uploading/);
    expect((await cli(['describe', 'orders'])).code).toBe(1); // nothing sent
    // --name for several files with replace is the same clash
    const named = await cli(['upload', path.join(a, 'Orders.csv'), path.join(b, 'orders.csv'), '--name', 'o']);
    expect(named.code).toBe(2);
    // --name-from dir resolves it; a glob picks the files
    const byDir = await cli(['upload', path.join(dir, 'clash', '*', '*.csv'), '--name-from', 'dir', '--json']);
    expect(byDir.code).toBe(0);
    expect(JSON.parse(byDir.out)).toMatchObject([
      { name: 'a', state: 'ready', rows: 1 },
      { name: 'b', state: 'ready', rows: 1 },
    ]);
    // --mode append: files bound for one dataset go in, one after another
    const app = await cli(['upload', path.join(a, 'Orders.csv'), path.join(b, 'orders.csv'), '--name', 'orders_all', '--mode', 'append', '--json']);
    expect(app.code).toBe(0);
    expect(JSON.parse(app.out).map((x: { version: number }) => x.version)).toEqual([1, 2]);

    const mixed = path.join(dir, 'mixed');
    fs.mkdirSync(mixed);
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(mixed, `good_${i}.csv`), `k,v\n${i},${i * 2}\n`);
    fs.writeFileSync(path.join(mixed, 'empty.csv'), '');
    const r = await cli(['upload', mixed, '--jobs', '3']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/→ empty: failed: \w+: /);
    expect(r.err).toMatch(/^6 file\(s\): 5 ready, 1 failed/m);
    expect(r.out).toMatch(/│ \S*empty\.csv\s+│ empty\s+│ failed\s+│\s+│ \w+: /);
    for (let i = 0; i < 5; i++) {
      const d = await cli(['describe', `good_${i}`, '--json']);
      expect(JSON.parse(d.out)).toMatchObject({ name: `good_${i}`, row_count: 1 });
    }
  }, 120_000);

  it('upload: bad inputs are usage errors (exit 2)', async () => {
    const none = await cli(['upload', path.join(dir, 'no-such-dir', '*.csv')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no files match/);
    const emptyDir = path.join(dir, 'empty-dir');
    fs.mkdirSync(emptyDir);
    const e = await cli(['upload', emptyDir]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/no \.csv, \.tsv, \.txt or \.gz files in directory/);
    const jobs = await cli(['upload', emptyDir, '--jobs', '0']);
    expect(jobs.code).toBe(2);
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
