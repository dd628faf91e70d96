/**
 * The real-world corpus (test/corpus/real, README there): CSV files that people and organisations
 * published, from many publishers, each uploaded with no options through the real path (presign →
 * PUT → S3 event → ingest → /sql). The expected table comes from csv-parse told the file's true
 * dialect (truth.json); names, row count and every cell must match. Files whose rows genuinely do
 * not share one field count must fail with `ragged_row` and the first offending line, changing
 * nothing.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { freshBucket } from './helpers/s3.js';
import { upload, sqlTable } from './helpers/ingest.js';
import { CORPUS_DIR, compareTables, expectedTable, loadTruth } from './helpers/corpus.js';
import { readHead } from '../lib/catalog/store.js';

const truth = loadTruth();

beforeAll(async () => {
  await freshBucket('corpus');
});

/** One dataset per file (names are case-insensitive, and two files differ only in case). */
function datasetName(file: string): string {
  return `c${truth.findIndex((t) => t.file === file)}_${file.toLowerCase().replace(/[^a-z0-9_.-]/g, '_')}`.slice(0, 100);
}

describe('real-world corpus: every file loads exactly with no options', () => {
  it('has at least 60 files from at least 10 publishers, 15 of them messy', () => {
    expect(truth.length).toBeGreaterThanOrEqual(60);
    expect(new Set(truth.map((t) => t.publisher)).size).toBeGreaterThanOrEqual(10);
    expect(truth.filter((t) => t.messy).length).toBeGreaterThanOrEqual(15);
  });

  for (const t of truth.filter((x) => !x.ragged)) {
    it(t.file, async () => {
      const name = datasetName(t.file);
      const r = await upload(fs.readFileSync(path.join(CORPUS_DIR, t.file)), { name, filename: path.basename(t.file) });
      expect(r.status.error ?? null).toBeNull();
      expect(r.status.state).toBe('ready');
      const cmp = compareTables(expectedTable(t), await sqlTable(name));
      expect(cmp.firstMismatch ?? 'exact').toBe('exact');
      expect(cmp.exact).toBe(true);
    });
  }
});

describe('real-world corpus: files with rows of another width fail precisely', () => {
  for (const t of truth.filter((x) => x.ragged)) {
    it(t.file, async () => {
      const name = datasetName(t.file);
      const r = await upload(fs.readFileSync(path.join(CORPUS_DIR, t.file)), { name, filename: path.basename(t.file) });
      expect(r.status.state).toBe('failed');
      expect(r.status.error).toMatchObject({ code: 'ragged_row', line: expect.any(Number) });
      expect(await readHead(name)).toBeUndefined();
    });
  }
});
