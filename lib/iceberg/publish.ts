/**
 * Publishing a committed catalog version as Iceberg metadata (docs/adr/0010-iceberg-tables.md).
 *
 * Our manifests stay the source of truth; this runs after a version is durable and derives
 * `datasets/<name>/metadata/v<N>.metadata.json` (plus its Avro manifest list and manifest) from it.
 * Order: manifest → manifest list → metadata JSON, each under a name unique to the attempt except
 * the metadata JSON, so a version's table metadata appears whole or not at all. A failure is
 * logged and repaired later: the next commit replays missing versions (up to REPLAY_LIMIT), and
 * `publishAll` (functions/publish.ts) replays every missing one.
 */
import crypto from 'node:crypto';
import { config } from '../config.js';
import { log } from '../log.js';
import { normalizeName } from '../names.js';
import { bucket } from '../storage/client.js';
import { conditionalWritesSupported } from '../storage/conditional.js';
import { keys, parseIcebergMetadataFile } from '../storage/keys.js';
import { getObjectBytes, getJson, headObject, isConditionalConflict, isPreconditionFailed, listAll, putObject } from '../storage/objects.js';
import { isDropped, type StoredManifest } from '../catalog/manifest.js';
import { listDatasetNames, mapLimit, readHead, readVersion } from '../catalog/store.js';
import { unsupportedReason } from './schema.js';
import { describeDataFile } from './stats.js';
import { decodeManifestList, encodeManifest, encodeManifestList, type ManifestFile } from './manifest-avro.js';
import { nextMetadata, schemasWith, snapshotId } from './metadata.js';
import { MetadataFileName, type DataFile, type TableMetadata } from './types.js';

/** Hadoop-table convention: the newest version number, as text. */
const VERSION_HINT = 'version-hint.text';

/** Missing earlier versions a commit replays before its own; beyond that the table restarts its history. */
const REPLAY_LIMIT = 10;

export const s3Uri = (key: string) => `s3://${bucket()}/${key}`;

export function tableLocation(name: string): string {
  return s3Uri(keys.icebergTable(name));
}

export function metadataKey(name: string, file: MetadataFileName): string {
  return keys.icebergMetadataFile(name, file.toString());
}

export interface PublishResult {
  name: string;
  version: number;
  /** s3:// location of the metadata written (or found), absent when skipped. */
  metadataLocation?: string;
  /** Why the version has no Iceberg metadata (a type without an exact Iceberg type). */
  skipped?: string;
  operation?: 'append' | 'overwrite';
  /** Object store requests made (replays of earlier versions included). */
  requests: number;
  replayed: number;
}

interface Ctx {
  requests: number;
  replayed: number;
}

type Previous = { metadata: TableMetadata; file: MetadataFileName; manifest: StoredManifest };

/** A prefetch's answer when the previous version has no metadata yet: the publication replays it. */
const REPLAY = Symbol('replay after the commit');

/**
 * What publishing a version reads before it writes, started while the commit still waits for its
 * objects and its version PUT (lib/catalog/store.ts): the previous version's metadata, and which
 * of the version's objects are local files with the object's bytes (their footers are read there,
 * not from the store). Used only for exactly the manifest it was started for; a commit that lost a
 * race starts again. It only reads: a previous version without metadata is replayed by the
 * publication itself, after the commit (a prefetch whose commit fails must write nothing, such as
 * a version-hint older than the winner's).
 */
export interface PublishPrefetch {
  readonly manifest: StoredManifest;
  readonly previous: Promise<Previous | undefined | typeof REPLAY>;
  readonly localFiles: ReadonlyMap<string, string>;
  readonly ctx: Ctx;
}

export function prefetchPublish(m: StoredManifest, localFiles: ReadonlyMap<string, string> = new Map()): PublishPrefetch | undefined {
  if (!config().icebergPublish || unpublishable(m)) return undefined;
  const ctx: Ctx = { requests: 0, replayed: 0 };
  const previous = previousMetadata(m, REPLAY_LIMIT, ctx, false);
  previous.catch(() => undefined);
  return { manifest: m, previous, localFiles, ctx };
}

/**
 * Why a version has no Iceberg form, or undefined: a type with no exact Iceberg type, a drop's
 * tombstone (the REST catalog stops serving the table: it reads our catalog's head), or objects
 * written with different schemas (an evolved dataset: Iceberg cannot promote BIGINT to double or
 * anything to string, and positional field ids would not line up).
 */
export function unpublishable(m: StoredManifest): string | undefined {
  if (isDropped(m)) return 'the dataset was dropped';
  if (m.objects.some((o) => o.schema_fingerprint !== undefined && o.schema_fingerprint !== m.schema_fingerprint)) {
    return 'its objects were written with different schemas (schema evolution), which this version does not map to Iceberg';
  }
  return unsupportedReason(m.schema);
}

async function readMetadata(name: string, file: MetadataFileName, ctx: Ctx): Promise<TableMetadata | undefined> {
  ctx.requests++;
  return getJson<TableMetadata>(metadataKey(name, file));
}

/**
 * The previous version's metadata, replaying missing versions first (at most `budget`). Undefined
 * when there is none: version 1, a previous version without an Iceberg form, or history too long
 * to replay now (the table then starts at this version).
 */
async function previousMetadata(m: StoredManifest, budget: number, ctx: Ctx, replay?: true): Promise<Previous | undefined>;
async function previousMetadata(m: StoredManifest, budget: number, ctx: Ctx, replay: false): Promise<Previous | undefined | typeof REPLAY>;
async function previousMetadata(m: StoredManifest, budget: number, ctx: Ctx, replay = true): Promise<Previous | undefined | typeof REPLAY> {
  const file = MetadataFileName.of(m.version).previous();
  if (!file) return undefined;
  ctx.requests++;
  // eslint-disable-next-line prefer-const -- metadata is read again after a replay
  let [metadata, manifest] = await Promise.all([readMetadata(m.name, file, ctx), readVersion(m.name, file.version)]);
  if (!manifest) return undefined;
  if (!metadata) {
    if (budget <= 0 || unpublishable(manifest)) return undefined;
    if (!replay) return REPLAY;
    const r = await publishOne(manifest, budget - 1, ctx);
    ctx.replayed++;
    if (r.skipped) return undefined;
    metadata = await readMetadata(m.name, file, ctx);
    if (!metadata) return undefined;
  }
  return { metadata, file, manifest };
}

async function publishOne(m: StoredManifest, budget: number, ctx: Ctx, pre?: PublishPrefetch): Promise<PublishResult> {
  const base = { name: m.name, version: m.version };
  const reason = unpublishable(m);
  if (reason) return { ...base, skipped: reason, requests: ctx.requests, replayed: ctx.replayed };
  const file = MetadataFileName.of(m.version);
  const key = metadataKey(m.name, file);
  // the previous version's metadata and the new objects' footers are read at the same time
  const prevP = pre ? pre.previous.then((p) => (p === REPLAY ? previousMetadata(m, budget, ctx) : p)) : previousMetadata(m, budget, ctx);
  prevP.catch(() => undefined);
  // the fields (ids, types) are the columns' whatever the earlier schemas: only the schema id is reused
  const columnFields = schemasWith([], m.schema).current.fields;
  const describe = (objects: StoredManifest['objects']) =>
    mapLimit(objects, 8, async (o) => {
      const r = await describeDataFile(o.key, s3Uri(o.key), o.size, columnFields, pre?.localFiles.get(o.key));
      ctx.requests += r.requests;
      return r.file;
    });
  // a replace (the usual ingest) describes every object, whatever the previous version held
  const everyObject = m.mode === 'append' ? undefined : describe(m.objects);
  everyObject?.catch(() => undefined);
  const prev = await prevP;
  const schema = schemasWith(prev?.metadata.schemas ?? [], m.schema).current;
  const fields = schema.fields;
  const id = snapshotId(m.dataset_id, m.version);
  const suffix = crypto.randomUUID();

  // append: the previous snapshot's manifests stay, one new manifest lists the added objects
  const prevKeys = new Set(prev?.manifest.objects.map((o) => o.key) ?? []);
  const append = prev !== undefined && m.mode === 'append' && [...prevKeys].every((k) => m.objects.some((o) => o.key === k));
  const added = append ? m.objects.filter((o) => !prevKeys.has(o.key)) : m.objects;

  const described: DataFile[] = everyObject && !append ? await everyObject : await describe(added);
  const addedRecords = described.reduce((n, f) => n + f.records, 0);
  const addedBytes = described.reduce((n, f) => n + f.size, 0);

  let entries: ManifestFile[] = [];
  if (append) {
    const prevSnap = prev!.metadata.snapshots.find((s) => s['snapshot-id'] === prev!.metadata['current-snapshot-id']);
    ctx.requests++;
    const bytes = prevSnap ? await getObjectBytes(keyOfUri(prevSnap['manifest-list'])) : undefined;
    if (!bytes) throw new Error(`the manifest list of version ${m.version - 1} of "${m.name}" is missing`);
    entries = await decodeManifestList(bytes);
  }
  // the manifest and the manifest list go up together: only the metadata (written after both) points at them
  let manifestPut: Promise<unknown> = Promise.resolve();
  if (described.length) {
    const manifestKey = keys.icebergManifest(m.name, m.version, suffix);
    const body = await encodeManifest(described, id, schema);
    ctx.requests++;
    manifestPut = putObject(manifestKey, body, { contentType: 'application/avro' });
    manifestPut.catch(() => undefined);
    entries.push({
      manifest_path: s3Uri(manifestKey),
      manifest_length: body.length,
      partition_spec_id: 0,
      content: 0,
      sequence_number: m.version,
      min_sequence_number: m.version,
      added_snapshot_id: id,
      added_files_count: described.length,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: addedRecords,
      existing_rows_count: 0,
      deleted_rows_count: 0,
      partitions: null,
      key_metadata: null,
    });
  }
  const totalRecords = entries.reduce((n, e) => n + e.added_rows_count + e.existing_rows_count, 0);
  const totalFiles = entries.reduce((n, e) => n + e.added_files_count + e.existing_files_count, 0);
  const listKey = keys.icebergManifestList(m.name, id, m.version, suffix);
  const parent = prev?.metadata['current-snapshot-id'];
  ctx.requests++;
  await Promise.all([manifestPut, putObject(listKey, await encodeManifestList(entries, { id, parent, sequence: m.version }), { contentType: 'application/avro' })]);

  const operation = append ? 'append' : 'overwrite';
  const metadata = nextMetadata({
    datasetId: m.dataset_id,
    version: m.version,
    timestampMs: Date.parse(m.updated_at),
    columns: m.schema,
    location: tableLocation(m.name),
    manifestList: s3Uri(listKey),
    operation,
    added: { files: described.length, records: addedRecords, bytes: addedBytes },
    total: { files: totalFiles, records: totalRecords, bytes: m.objects.reduce((n, o) => n + o.size, 0) },
    previous: prev ? { metadata: prev.metadata, location: s3Uri(metadataKey(m.name, prev.file)) } : undefined,
  });
  const conditional = await conditionalWritesSupported();
  ctx.requests++;
  try {
    await putObject(key, JSON.stringify(metadata), { contentType: 'application/json', ifNoneMatch: conditional });
  } catch (e) {
    // another publisher (a repair, a retried commit) wrote this version first: theirs is complete too
    if (!isPreconditionFailed(e) && !isConditionalConflict(e)) throw e;
  }
  // advisory pointer for readers that open the table directory (DuckDB iceberg_scan, icebird); the
  // catalogs (REST, Glue) are authoritative. A late publisher of an older version may leave it behind.
  ctx.requests++;
  await putObject(keys.icebergMetadataFile(m.name, VERSION_HINT), String(m.version), { contentType: 'text/plain' });
  if (config().glueDatabase) {
    // the Glue client is loaded only where Glue is configured (it is the largest module of a cold start)
    const { registerInGlue } = await import('./glue.js');
    ctx.requests += await registerInGlue(m.name, tableLocation(m.name), s3Uri(key), fields);
  }
  return { ...base, metadataLocation: s3Uri(key), operation, requests: ctx.requests, replayed: ctx.replayed };
}

function keyOfUri(uri: string): string {
  const prefix = `s3://${bucket()}/`;
  if (!uri.startsWith(prefix)) throw new Error(`${uri} is not in this bucket`);
  return uri.slice(prefix.length);
}

/** Publishes one committed version (replaying up to REPLAY_LIMIT missing earlier ones). Throws on failure. */
export async function publishVersion(m: StoredManifest, replayLimit = REPLAY_LIMIT): Promise<PublishResult> {
  return publishOne(m, replayLimit, { requests: 0, replayed: 0 });
}

/** Publishes a version unless its metadata exists already (the repair path). */
async function publishIfMissing(m: StoredManifest, replayLimit: number): Promise<PublishResult> {
  const key = metadataKey(m.name, MetadataFileName.of(m.version));
  if (!unpublishable(m) && (await headObject(key))) {
    return { name: m.name, version: m.version, metadataLocation: s3Uri(key), requests: 1, replayed: 0 };
  }
  return publishVersion(m, replayLimit);
}

/**
 * The hook the catalog calls after every successful commit (lib/catalog/store.ts). Never throws:
 * the version is durable already, and a failed publish is repaired by the next commit or by
 * `publishAll`. A drop's tombstone publishes nothing (`unpublishable`): the REST catalog stops
 * serving the table because it reads our catalog's head; a Glue table stays (not deleted yet).
 */
export async function afterCommit(m: StoredManifest, pre?: PublishPrefetch): Promise<PublishResult | undefined> {
  if (!config().icebergPublish) return undefined;
  const started = Date.now();
  try {
    // a prefetch counts only for the very manifest it was started for
    const r = pre?.manifest === m ? await publishOne(m, REPLAY_LIMIT, pre.ctx, pre) : await publishVersion(m);
    if (r.skipped) log.warn('iceberg: version published without Iceberg metadata', { dataset: m.name, version: m.version, reason: r.skipped });
    else log.info('iceberg: published', { dataset: m.name, version: m.version, operation: r.operation, requests: r.requests, replayed: r.replayed, ms: Date.now() - started });
    return r;
  } catch (e) {
    log.error('iceberg: publish failed; the next commit or the publish function repairs it', { dataset: m.name, version: m.version, err: e });
    return undefined;
  }
}

/** The newest version of a dataset that has Iceberg metadata, at most `upTo` (one LIST). */
export async function latestPublished(name: string, upTo: number): Promise<MetadataFileName | undefined> {
  const r = await listAll(keys.icebergMetadataPrefix(name));
  let best: MetadataFileName | undefined;
  for (const o of r.objects) {
    const f = parseIcebergMetadataFile(name, o.Key!);
    const v = f ? MetadataFileName.parse(f) : undefined;
    if (v && v.version <= upTo && (!best || v.version > best.version)) best = v;
  }
  return best;
}

/** Repair: publishes every dataset's head, replaying all missing versions. */
export async function publishAll(names?: string[]): Promise<PublishResult[]> {
  const all = names?.map(normalizeName) ?? (await listDatasetNames());
  const out = await mapLimit(all, 4, async (name) => {
    const head = await readHead(name);
    return head ? publishIfMissing(head, Number.MAX_SAFE_INTEGER) : undefined;
  });
  return out.filter((r): r is PublishResult => r !== undefined);
}
