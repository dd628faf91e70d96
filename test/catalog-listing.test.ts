/**
 * GET /catalog/manifests at O(1) requests plus the changes since the newest watermarked snapshot
 * (docs/adr/0012-catalog-listing.md): pages, cursors, read-your-writes across snapshots, drops,
 * concurrent commits, corrupt entries, and the number of requests a listing makes.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { handler as catalogFn } from '../functions/catalog.js';
import { callHttp } from './helpers/lambda.js';
import { freshBucket, useConditionalServer } from './helpers/s3.js';
import { s3 } from '../lib/storage/client.js';
import { listAll, putObject } from '../lib/storage/objects.js';
import { PREFIX, parseSnapshotKeyKind } from '../lib/storage/keys.js';
import { fingerprint } from '../lib/catalog/manifest.js';
import { commitObjects, dropDataset } from '../lib/catalog/register.js';
import { mapLimit, versionKey } from '../lib/catalog/store.js';
import { catalogState, rebuildCatalogState, resetListingMemo, SNAPSHOT_AFTER_READS } from '../lib/catalog/listing.js';
import { writeWatermarkedSnapshot, latestWatermarkedKey } from '../lib/catalog/snapshot.js';

// the commits here carry no data objects: nothing to publish as Iceberg (not under test here)
process.env.LAKEHOUSE_ICEBERG = 'off';

const SCHEMA = [
  { name: 'id', type: 'BIGINT', nullable: true },
  { name: 'label', type: 'VARCHAR', nullable: true },
];
const FP = fingerprint(SCHEMA);

/** Commits a version of `name` (objects are not checked by commitObjects: no data needed). */
async function put(name: string, n = 1, mode: 'replace' | 'append' = 'replace') {
  const objects = [{ key: `datasets/${name}/${FP.slice(0, 16)}/o${n}.parquet`, size: 10, row_count: n }];
  return (await commitObjects({ name, schema: SCHEMA, schema_fingerprint: FP, objects, row_count: n, mode })).manifest;
}

/** Creates the datasets, 8 commits in flight (each its own dataset). */
async function putMany(list: string[]): Promise<void> {
  await mapLimit(list, 8, (n) => put(n));
}

function list(query?: Record<string, string>) {
  return callHttp(catalogFn, { method: 'GET', path: '/catalog/manifests', ...(query ? { query } : {}) });
}

/** Every page, following next_cursor. */
async function walk(limit?: number): Promise<{ names: string[]; versions: Map<string, number>; pages: number; errors: string[] }> {
  const names: string[] = [];
  const versions = new Map<string, number>();
  const errors: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const r = await list({ ...(limit ? { limit: String(limit) } : {}), ...(cursor ? { cursor } : {}) });
    expect(r.status).toBe(200);
    pages++;
    for (const d of r.json.datasets) {
      names.push(d.name);
      versions.set(d.name, d.version);
    }
    for (const e of r.json.errors ?? []) errors.push(e.name);
    cursor = r.json.next_cursor;
  } while (cursor);
  return { names, versions, pages, errors };
}

/** The S3 commands sent while fn runs. */
async function counting<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const commands: string[] = [];
  const name = `countListing${Math.random().toString(36).slice(2)}`;
  s3().middlewareStack.add(
    (next, context: any) => async (args: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      commands.push(`${context.commandName} ${args.input.Key ?? args.input.Prefix ?? ''}`);
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), commands };
  } finally {
    s3().middlewareStack.remove(name);
  }
}

const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

describe('paginated listing', () => {
  beforeAll(async () => {
    await freshBucket('pages');
    await putMany(names(23, 'p'));
  });

  it('walks every dataset once, in name order, limit at a time; the last page has no cursor', async () => {
    const w = await walk(5);
    expect(w.names).toEqual(names(23, 'p'));
    expect(w.pages).toBe(5);
    const all = await list();
    expect(all.json.datasets).toHaveLength(23); // default limit 100
    expect(all.json.next_cursor).toBeUndefined();
    const exact = await list({ limit: '23' });
    expect(exact.json.next_cursor).toBeUndefined();
    const first = await list({ limit: '22' });
    expect(first.json.next_cursor).toEqual(expect.any(String));
    const last = await list({ limit: '1000', cursor: first.json.next_cursor });
    expect(last.json.datasets.map((d: { name: string }) => d.name)).toEqual(['p0022']);
    expect(last.json.next_cursor).toBeUndefined();
  });

  it('refuses a bad limit with invalid_limit and a foreign cursor with invalid_cursor', async () => {
    for (const limit of ['0', '1001', '-1', '1.5', 'ten', '', '00000001']) {
      const r = await list({ limit });
      expect(r.status, limit).toBe(400);
      expect(r.json.error.code).toBe('invalid_limit');
    }
    const good = (await list({ limit: '2' })).json.next_cursor as string;
    const forged = [
      'garbage!',
      'bm90LWEtY3Vyc29y', // "not-a-cursor"
      Buffer.from('n1:../etc').toString('base64url'),
      Buffer.from('n1:Upper').toString('base64url'),
      `${good}=`,
      good.slice(0, -1),
      'x'.repeat(500),
    ];
    for (const cursor of forged) {
      const r = await list({ cursor });
      expect(r.status, cursor).toBe(400);
      expect(r.json.error.code).toBe('invalid_cursor');
    }
    expect((await list({ cursor: good })).status).toBe(200);
  });

  it('a cursor stays valid across commits: names created behind it are skipped, after it listed', async () => {
    const first = await list({ limit: '10' });
    await put('a_before'); // sorts before the cursor
    await put('zz_after');
    await put('p0003', 2); // a new version of a name already returned
    const rest = await walk();
    expect(rest.names).toContain('a_before');
    let cursor = first.json.next_cursor;
    const seen: string[] = first.json.datasets.map((d: { name: string }) => d.name);
    while (cursor) {
      const r = await list({ limit: '10', cursor });
      seen.push(...r.json.datasets.map((d: { name: string }) => d.name));
      cursor = r.json.next_cursor;
    }
    expect(seen).toEqual([...names(23, 'p'), 'zz_after']);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('changes after the snapshot', () => {
  beforeAll(async () => {
    await freshBucket('changes');
    await putMany(names(5, 'c'));
  });

  it('a commit after the snapshot is listed at once (new dataset and new version), without a new snapshot', async () => {
    const base = await rebuildCatalogState();
    expect(base.snapshot).toBeDefined();
    await put('c0001', 2);
    await put('fresh');
    const s = await catalogState();
    expect(s.snapshot).toBe(base.snapshot);
    expect(s.manifests.find((m) => m.name === 'c0001')?.version).toBe(2);
    expect(s.manifests.map((m) => m.name)).toContain('fresh');
    const w = await walk();
    expect(w.versions.get('c0001')).toBe(2);
    expect(w.names).toContain('fresh');
  });

  it('a drop disappears at once, and stays gone in every later snapshot though older markers are still read', async () => {
    await put('doomed');
    await rebuildCatalogState(); // the snapshot holds doomed v1; its marker is still in the margin
    await dropDataset('doomed');
    expect((await walk()).names).not.toContain('doomed');
    await rebuildCatalogState(); // now the snapshot holds the tombstone
    resetListingMemo();
    expect((await walk()).names).not.toContain('doomed');
    const again = await put('doomed'); // created again: a new dataset
    const w = await walk();
    expect(w.versions.get('doomed')).toBe(again.version);
    expect(again.version).toBe(3);
  });

  it('past the read threshold a listing writes a new watermarked snapshot, and the next one reads only newer markers', async () => {
    const before = await latestWatermarkedKey();
    await putMany(names(SNAPSHOT_AFTER_READS, 'bulk'));
    const s = await catalogState();
    expect(s.reads).toBeGreaterThanOrEqual(SNAPSHOT_AFTER_READS);
    expect(s.snapshot).not.toBe(before);
    expect(await latestWatermarkedKey()).toBe(s.snapshot);
    const next = await catalogState();
    expect(next.snapshot).toBe(s.snapshot);
    expect(next.reads).toBe(0);
    expect(next.manifests.map((m) => m.name)).toEqual(s.manifests.map((m) => m.name));
    expect(next.manifests.length).toBe(5 + 2 + SNAPSHOT_AFTER_READS);
  });

  it('a commit landing between the marker listing and the snapshot write is not lost', async () => {
    await putMany(names(SNAPSHOT_AFTER_READS, 'race'));
    let injected = false;
    const hook = 'raceAfterMarkerList';
    s3().middlewareStack.add(
      (next, context: any) => async (args: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        const out = await next(args);
        if (!injected && context.commandName === 'ListObjectsV2Command' && args.input.Prefix === PREFIX.catalogChanges) {
          injected = true;
          await put('race_late');
          await put('race0000', 2);
        }
        return out;
      },
      { step: 'initialize', name: hook },
    );
    let s;
    try {
      s = await catalogState();
    } finally {
      s3().middlewareStack.remove(hook);
    }
    expect(injected).toBe(true);
    expect(s.manifests.map((m) => m.name)).not.toContain('race_late'); // it landed after this listing read
    expect(await latestWatermarkedKey()).toBe(s.snapshot); // the listing wrote a snapshot without it
    resetListingMemo();
    const after = await catalogState();
    expect(after.snapshot).toBe(s.snapshot);
    expect(after.manifests.map((m) => m.name)).toContain('race_late');
    expect(after.manifests.find((m) => m.name === 'race0000')?.version).toBe(2);
  });

  it('concurrent commits while listing: every commit that returned is on the next listing', async () => {
    const targets = names(24, 'conc');
    const done: Array<{ name: string; version: number }> = [];
    const commits = Promise.all(
      targets.map(async (n, i) => {
        const m = await put(n, i + 1);
        done.push({ name: m.name, version: m.version });
        const again = await put(n, i + 100); // and a second version
        done.push({ name: again.name, version: again.version });
      }),
    );
    const seen: number[] = [];
    let finished = false;
    void commits.then(() => (finished = true));
    while (!finished) {
      const before = [...done];
      const s = await catalogState();
      const got = new Map(s.manifests.map((m) => [m.name, m.version]));
      // every commit that had returned before this listing started is on it (at its version or newer)
      for (const d of before) expect(got.get(d.name) ?? 0).toBeGreaterThanOrEqual(d.version);
      seen.push(before.length);
    }
    await commits;
    const w = await walk(7);
    for (const n of targets) expect(w.versions.get(n)).toBe(2);
    expect(seen.length).toBeGreaterThan(0);
  });
});

describe('corrupt entries and request counts', () => {
  beforeAll(async () => {
    await freshBucket('counts');
    await putMany(names(10, 'q'));
    await rebuildCatalogState();
  });

  it('an unreadable version is reported in errors and skipped, before and after the next snapshot', async () => {
    await put('poison');
    await putObject(versionKey('poison', 1), Buffer.from('PAR1 not parquet at all PAR1'));
    const r = await list();
    expect(r.json.errors).toEqual([{ name: 'poison', code: 'corrupt_manifest', message: expect.any(String) }]);
    expect(r.json.datasets.map((d: { name: string }) => d.name)).not.toContain('poison');
    await rebuildCatalogState();
    resetListingMemo();
    const again = await list();
    expect(again.json.errors).toEqual([{ name: 'poison', code: 'corrupt_manifest', message: expect.any(String) }]);
    // on the page whose name range holds it only ("poison" sorts before "q0000")
    const p1 = await list({ limit: '2' });
    expect(p1.json.errors).toEqual([expect.objectContaining({ name: 'poison' })]);
    const p2 = await list({ limit: '2', cursor: p1.json.next_cursor });
    expect(p2.json.errors).toBeUndefined();
  });

  it('a listing costs the same few requests at 10 and at 300 datasets; each change since the snapshot adds one GET', async () => {
    await rebuildCatalogState();
    resetListingMemo();
    const small = await counting(() => list({ limit: '1000' }));
    expect(small.result.json.datasets).toHaveLength(10); // and poison in errors
    await putMany(names(290, 'm'));
    await rebuildCatalogState();
    resetListingMemo();
    const cold = await counting(() => list({ limit: '1000' }));
    expect(cold.result.json.datasets).toHaveLength(300);
    // LIST snapshots, GET the snapshot, LIST the markers
    expect(cold.commands.map((c) => c.split(" ")[0]), JSON.stringify(small.commands)).toEqual(small.commands.map((c) => c.split(" ")[0]));
    expect(cold.commands.length).toBeLessThanOrEqual(3);
    const warm = await counting(() => list({ limit: '1000' }));
    expect(warm.commands.length).toBe(2); // the snapshot is in memory
    const changed = names(5, 'm');
    for (const [i, n] of changed.entries()) await put(n, i + 10);
    const after = await counting(() => list({ limit: '1000' }));
    expect(after.commands.filter((c) => c.startsWith('GetObjectCommand _catalog/datasets/'))).toHaveLength(5);
    expect(after.commands.length).toBe(2 + 5);
    // pages cost the same as the whole
    const cursor = (await list({ limit: '10' })).json.next_cursor as string;
    const page = await counting(() => list({ limit: '10', cursor }));
    expect(page.commands.length).toBe(after.commands.length);
  });
});

describe('snapshot writes are create-once (store honours If-None-Match)', () => {
  useConditionalServer('once', resetListingMemo);

  it('one catalog state gets one snapshot object, however many write it at once', async () => {
    const ms = await Promise.all(names(4, 'o').map((n) => put(n)));
    const watermark = 1_700_000_000_000;
    const keys = await Promise.all(Array.from({ length: 6 }, () => writeWatermarkedSnapshot(watermark, ms, [])));
    expect(new Set(keys).size).toBe(1);
    expect(parseSnapshotKeyKind(keys[0]!)).toEqual({ at: watermark, watermarked: true });
    const all = (await listAll(PREFIX.snapshots)).objects.map((o) => o.Key);
    expect(all).toEqual([keys[0]]);
    // another state, another key
    expect(await writeWatermarkedSnapshot(watermark, ms.slice(1), [])).not.toBe(keys[0]);
    const w = await walk();
    expect(w.names).toEqual(names(4, 'o'));
  });
});
