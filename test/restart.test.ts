/**
 * An ingest killed with the whole local stack (issue 12): after a restart, the sweeper re-drives the
 * upload whose lease expired, and it reaches `ready` without a new PUT — every row there.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, waitForUpload, killStackHard, type Stack } from '../localstack/stack.js';
import { generateWorkers } from '../scripts/gen-workers.js';

const env = { LAKEHOUSE_INGEST_LEASE_MS: '5000', LAKEHOUSE_LOCAL_SCHEDULE_MS: '2000' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-'));
const stacks: Stack[] = [];

afterAll(async () => {
  for (const s of stacks) await s.stop().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the local stack killed during a large ingest', () => {
  // two stack starts, a 400,000-row file and a re-driven ingest: more than the default 60 s on a busy machine
  it('finishes the upload after a restart, without a new PUT', { timeout: 300_000 }, async () => {
    const rows = 400_000;
    const file = path.join(dir, 'workers.csv');
    await generateWorkers(rows, file, 5);
    const dataDir = path.join(dir, 'data');
    const first = await startStack({ dataDir, env });
    stacks.push(first);
    const body = fs.readFileSync(file);
    const p = (await (await fetch(`${first.api}/uploads`, { method: 'POST', body: JSON.stringify({ name: 'killed', size: body.length }) })).json()) as {
      url: string;
      upload_id: string;
    };
    expect((await fetch(p.url, { method: 'PUT', body })).ok).toBe(true);
    // wait until the ingest is under way, then kill every process of the stack at once
    let state = 'pending';
    for (let i = 0; i < 400 && state !== 'ingesting'; i++) {
      state = ((await (await fetch(`${first.api}/uploads/${p.upload_id}`)).json()) as { state: string }).state;
      if (state === 'ready' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(state).toBe('ingesting');
    await killStackHard(first);
    stacks.pop();

    const second = await startStack({ dataDir, env });
    stacks.push(second);
    const before = (await (await fetch(`${second.api}/uploads/${p.upload_id}`)).json()) as { state: string };
    expect(before.state).toBe('ingesting'); // the kill left it mid-ingest
    const done = (await waitForUpload(second.api, p.upload_id, 180_000)) as { state: string; row_count?: number; error?: unknown };
    expect(done.error ?? null).toBeNull();
    expect(done.state).toBe('ready');
    expect(done.row_count).toBe(rows);
    const q = (await (await fetch(`${second.api}/sql`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) FROM killed' }) })).json()) as { rows: number[][] };
    expect(q.rows[0]![0]).toBe(rows);
  });
});
