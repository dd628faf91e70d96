/**
 * Manifests that grow with the change, not the dataset (docs/adr/0011-manifest-segments.md).
 *
 * A small dataset's version holds its object entries inline. Past INLINE_MAX objects they live in
 * immutable *segment* files (`_catalog/datasets/<name>/segments/<id>.parquet`, written once under
 * a fresh id) and the version lists the segments. An append whose objects extend the head's list
 * writes one segment with just the new entries and a version that lists the head's segments plus
 * it: O(objects changed). Any other change (replace, compaction, an evolution that renames
 * objects' schemas) — or a list past SEGMENTS_MAX segments — writes the whole list as one segment
 * again (amortised: at most once per SEGMENTS_MAX appends). Loading a version reads its segments
 * in parallel. A segment is encoded like a manifest row that holds only objects (codec.ts).
 */
import crypto from 'node:crypto';
import { keys } from '../storage/keys.js';
import { getObjectBytes, putObject, storageError } from '../storage/objects.js';
import { encodeManifest, decodeManifest, CorruptManifestError } from './codec.js';
import type { ObjectRef, SegmentRef, StoredManifest } from './manifest.js';

export const INLINE_MAX = 64;
export const SEGMENTS_MAX = 32;
const SEGMENT_MARK = 'segment';
const EPOCH = new Date(0).toISOString();

function sameEntry(a: ObjectRef, b: ObjectRef): boolean {
  return (
    a.key === b.key &&
    a.size === b.size &&
    a.row_count === b.row_count &&
    a.schema_fingerprint === b.schema_fingerprint &&
    JSON.stringify(a.stats ?? null) === JSON.stringify(b.stats ?? null)
  );
}

async function writeSegment(m: Pick<StoredManifest, 'name' | 'dataset_id'>, objects: ObjectRef[]): Promise<SegmentRef> {
  const key = keys.catalogSegment(m.name, crypto.randomUUID());
  const body = await encodeManifest({
    dataset_id: m.dataset_id,
    name: m.name,
    schema_fingerprint: '',
    schema: [],
    objects,
    row_count: null,
    version: 1,
    created_at: EPOCH,
    updated_at: EPOCH,
    commit_id: SEGMENT_MARK,
    mode: 'append',
  });
  try {
    await putObject(key, body, { contentType: 'application/vnd.apache.parquet' });
  } catch (e) {
    throw storageError('catalog commit', e);
  }
  return { key, objects: objects.length };
}

/**
 * How the next version stores its object entries: inline, or a list of segments reusing the
 * head's where the new list extends it. Writes the new segments (before the version: a version
 * never names a segment that does not exist; a lost race leaves an unreferenced segment).
 */
export async function layOut(head: StoredManifest | undefined, next: Omit<StoredManifest, 'version'>): Promise<SegmentRef[] | undefined> {
  const objects = next.objects;
  if (objects.length <= INLINE_MAX) return undefined;
  const prior = head?.segments;
  if (
    prior?.length &&
    prior.length < SEGMENTS_MAX &&
    head!.dataset_id === next.dataset_id &&
    objects.length >= head!.objects.length &&
    head!.objects.every((o, i) => sameEntry(o, objects[i]!))
  ) {
    const added = objects.slice(head!.objects.length);
    return added.length ? [...prior, await writeSegment(next, added)] : prior;
  }
  return [await writeSegment(next, objects)];
}

/** Reads a version's segments back into its `objects` (a no-op for an inline version). */
export async function resolveSegments(m: StoredManifest, cache?: Map<string, ObjectRef[]>): Promise<StoredManifest> {
  if (!m.segments?.length) return m;
  const parts = await Promise.all(
    m.segments.map(async (g) => {
      const hit = cache?.get(g.key);
      if (hit) return hit;
      const bytes = await getObjectBytes(g.key);
      if (!bytes) throw new CorruptManifestError(`segment ${g.key} is missing`, g.key);
      const seg = await decodeManifest(bytes, g.key);
      if (seg.name !== m.name || seg.commit_id !== SEGMENT_MARK || seg.objects.length !== g.objects) {
        throw new CorruptManifestError(`segment ${g.key} does not belong to this version`, g.key);
      }
      cache?.set(g.key, seg.objects);
      return seg.objects;
    }),
  );
  return { ...m, objects: parts.flat() };
}
