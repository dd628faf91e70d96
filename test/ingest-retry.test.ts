/**
 * Data keys are immutable (issue 12): an ingest retried after a crash never overwrites an object a
 * previous attempt left at the upload's data key with other bytes — it writes a key of its own —
 * and the dataset is right either way.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { freshBucket } from './helpers/s3.js';
import { presignAndPut, deliver, getStatus, sqlTable } from './helpers/ingest.js';
import { readStatus, writeStatus } from '../lib/ingest/status.js';
import { getObjectBytes, putObject } from '../lib/storage/objects.js';
import { keys } from '../lib/storage/keys.js';
import { fingerprint } from '../lib/catalog/manifest.js';

let bucket: string;
beforeAll(async () => {
  bucket = await freshBucket('retry');
});

describe('an ingest retried after a crash', () => {
  it('leaves a different object at the data key untouched and commits a key of its own', async () => {
    const csv = 'id,city\n1,Oslo\n2,Lima\n';
    const { presign, size, etag } = await presignAndPut(csv, { name: 'retried' });
    const id = presign.upload_id as string;
    // attempt 1 wrote something at the data key and died before committing; its lease has expired
    const fp = fingerprint([
      { name: 'id', type: 'BIGINT' },
      { name: 'city', type: 'VARCHAR' },
    ]);
    const dataKey = keys.datasetObject('retried', fp, id);
    const stale = Buffer.from('not the parquet of this attempt');
    await putObject(dataKey, stale);
    const rec = (await readStatus(id))!;
    await writeStatus({ ...rec, state: 'ingesting', attempts: 1, lease: { owner: 'crashed', expires_at: new Date(Date.now() - 1000).toISOString() } });

    await deliver(bucket, presign.key, size, etag);
    const s = (await getStatus(id)).json;
    expect(s.state).toBe('ready');
    expect((await getObjectBytes(dataKey))!.equals(stale)).toBe(true);
    const objects = s.dataset.objects.map((o: { key: string }) => o.key);
    expect(objects).toEqual([keys.datasetObject('retried', fp, `${id}-2`)]);
    expect((await sqlTable('retried')).rows).toEqual([
      [1, 'Oslo'],
      [2, 'Lima'],
    ]);
  });

  it('keeps the object a previous attempt committed, and commits nothing twice', async () => {
    const csv = 'id,city\n3,Rome\n';
    const { presign, size, etag } = await presignAndPut(csv, { name: 'committed_once' });
    await deliver(bucket, presign.key, size, etag);
    const first = (await getStatus(presign.upload_id)).json;
    expect(first.state).toBe('ready');
    const key = first.dataset.objects[0].key as string;
    const bytes = await getObjectBytes(key);
    // the final status write was lost: the record still says ingesting, with an expired lease
    const rec = (await readStatus(presign.upload_id))!;
    await writeStatus({ ...rec, state: 'ingesting', lease: { owner: 'crashed', expires_at: new Date(Date.now() - 1000).toISOString() } });
    await deliver(bucket, presign.key, size, etag);
    const again = (await getStatus(presign.upload_id)).json;
    expect(again.state).toBe('ready');
    expect(again.dataset.version).toBe(first.dataset.version);
    expect(again.dataset.objects.map((o: { key: string }) => o.key)).toEqual([key]);
    expect((await getObjectBytes(key))!.equals(bytes!)).toBe(true);
  });
});
