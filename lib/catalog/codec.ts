/**
 * Manifest codec: one manifest = one Parquet file with a single row (objects and schema as lists
 * of structs, Snappy-compressed). Written with apache-arrow + parquet-wasm; read with hyparquet,
 * which imports in ~25 ms and decodes a manifest in well under a millisecond — the sql function's
 * cold start reads every dataset's manifest, so the read path must not pay apache-arrow's import
 * and parquet-wasm's WebAssembly start-up (~270 ms measured). Anything that is not a readable
 * manifest (truncated, corrupt, a foreign Parquet file) is rejected with CorruptManifestError.
 */
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { StoredManifest, SchemaColumn, ObjectRef } from './manifest.js';

export const MANIFEST_FORMAT_VERSION = 1;

export class CorruptManifestError extends Error {
  readonly key: string | undefined;
  constructor(message: string, key?: string) {
    super(message);
    this.name = 'CorruptManifestError';
    this.key = key;
  }
}

/** Loads the writer's modules ahead of need (ingest does it while the upload downloads). */
export function warmEncoder(): Promise<void> {
  return Promise.all([import('apache-arrow'), import('parquet-wasm')]).then(
    () => undefined,
    () => undefined,
  );
}

export async function encodeManifest(m: StoredManifest): Promise<Uint8Array> {
  return encodeManifests([m]);
}

/** Many manifests, one row each (catalog snapshots); `meta` goes to the file's key-value metadata. */
export async function encodeManifests(list: StoredManifest[], meta?: Record<string, string>, rowGroupSize?: number): Promise<Uint8Array> {
  const [
    { Bool, Field, Int32, Int64, List, Struct, Table, TimestampMillisecond, Utf8, makeVector, tableToIPC, vectorFromArray },
    p,
  ] = await Promise.all([import('apache-arrow'), import('parquet-wasm')]);
  const schemaItem = new Struct([
    new Field('name', new Utf8(), false),
    new Field('type', new Utf8(), false),
    new Field('nullable', new Bool(), false),
  ]);
  const statItem = new Struct([
    new Field('name', new Utf8(), false),
    new Field('min', new Utf8(), true),
    new Field('max', new Utf8(), true),
    new Field('nulls', new Int64(), true),
  ]);
  const objectItem = new Struct([
    new Field('key', new Utf8(), false),
    new Field('size', new Int64(), false),
    new Field('row_count', new Int64(), true),
    new Field('schema_fingerprint', new Utf8(), true),
    new Field('stats', new List(new Field('item', statItem, false)), true),
  ]);
  const segmentItem = new Struct([
    new Field('key', new Utf8(), false),
    new Field('objects', new Int64(), false),
  ]);
  const changeItem = new Struct([
    new Field('change', new Utf8(), false),
    new Field('name', new Utf8(), false),
    new Field('from', new Utf8(), true),
    new Field('to', new Utf8(), true),
  ]);
  type Col = InstanceType<typeof Utf8> | InstanceType<typeof Int64> | InstanceType<typeof Int32> | InstanceType<typeof List>;
  const col = (type: Col, pick: (m: StoredManifest) => unknown) => vectorFromArray(list.map(pick) as never[], type as never);
  const ts = (pick: (m: StoredManifest) => string) =>
    makeVector({ type: new TimestampMillisecond('UTC'), data: BigInt64Array.from(list.map((m) => BigInt(Date.parse(pick(m))))) } as never);
  const big = (n: number | null) => (n === null ? null : BigInt(n));
  const table = new Table({
    format_version: col(new Int32(), () => MANIFEST_FORMAT_VERSION),
    dataset_id: col(new Utf8(), (m) => m.dataset_id),
    name: col(new Utf8(), (m) => m.name),
    schema_fingerprint: col(new Utf8(), (m) => m.schema_fingerprint),
    schema: col(new List(new Field('item', schemaItem, false)), (m) => m.schema.map((c) => ({ ...c }))),
    objects: col(new List(new Field('item', objectItem, false)), (m) =>
      (m.segments?.length ? [] : m.objects).map((o) => ({
        key: o.key,
        size: BigInt(o.size),
        row_count: big(o.row_count),
        schema_fingerprint: o.schema_fingerprint ?? null,
        stats: o.stats ? o.stats.map((c) => ({ name: c.name, min: c.min, max: c.max, nulls: big(c.nulls) })) : null,
      })),
    ),
    row_count: col(new Int64(), (m) => big(m.row_count)),
    version: col(new Int64(), (m) => BigInt(m.version)),
    created_at: ts((m) => m.created_at),
    updated_at: ts((m) => m.updated_at),
    commit_id: col(new Utf8(), (m) => m.commit_id),
    mode: col(new Utf8(), (m) => m.mode),
    segments: col(new List(new Field('item', segmentItem, false)), (m) =>
      m.segments?.length ? m.segments.map((g) => ({ key: g.key, objects: BigInt(g.objects) })) : null,
    ),
    schema_changes: col(new List(new Field('item', changeItem, false)), (m) =>
      (m.schema_changes ?? []).map((c) => ({ change: c.change, name: c.name, from: c.from ?? null, to: c.to ?? null })),
    ),
  });
  const wasmTable = p.Table.fromIPCStream(tableToIPC(table, 'stream'));
  let builder = new p.WriterPropertiesBuilder().setCompression(p.Compression.SNAPPY).setCreatedBy('lakehouse catalog');
  if (meta) builder = builder.setKeyValueMetadata(new Map(Object.entries(meta)));
  if (rowGroupSize) builder = builder.setMaxRowGroupSize(rowGroupSize);
  const props = builder.build();
  return p.writeParquet(wasmTable, props);
}

function num(v: unknown, what: string, key?: string): number {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CorruptManifestError(`${what} is out of range`, key);
    }
    return Number(v);
  }
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new CorruptManifestError(`${what} is not a number`, key);
}

function str(v: unknown, what: string, key?: string): string {
  if (typeof v === 'string') return v;
  throw new CorruptManifestError(`${what} is not a string`, key);
}

function iso(v: unknown, what: string, key?: string): string {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(Math.floor(v)).toISOString();
  if (typeof v === 'bigint') return new Date(Number(v)).toISOString();
  if (v instanceof Date) return v.toISOString();
  throw new CorruptManifestError(`${what} is not a timestamp`, key);
}

function rows(v: unknown, what: string, key?: string): Array<Record<string, unknown>> {
  if (v === null || v === undefined) throw new CorruptManifestError(`${what} is missing`, key);
  if (!Array.isArray(v)) throw new CorruptManifestError(`${what} is not a list`, key);
  return v.map((x) => {
    if (!x || typeof x !== 'object') throw new CorruptManifestError(`${what} has a malformed entry`, key);
    return x as Record<string, unknown>;
  });
}

/** The file's key-value metadata (written by encodeManifests' `meta`); {} when unreadable or absent. */
export function decodeKeyValueMetadata(bytes: Uint8Array): Record<string, string> {
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const kv = parquetMetadata(file).key_value_metadata ?? [];
    return Object.fromEntries(kv.filter((e) => typeof e.value === 'string').map((e) => [e.key, e.value as string]));
  } catch {
    return {};
  }
}

export async function decodeManifest(bytes: Uint8Array, key?: string): Promise<StoredManifest> {
  const list = await decodeManifests(bytes, key, 1);
  return list[0]!;
}

/** Name, version and mode of every row (a snapshot's index: the other columns are not decoded). */
export async function decodeManifestIndex(bytes: Uint8Array, key?: string): Promise<Array<{ name: string; version: number; mode: string }>> {
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rowsRead = (await parquetReadObjects({ file, columns: ['name', 'version', 'mode'], utf8: true })) as Array<Record<string, unknown>>;
    return rowsRead.map((r) => ({ name: str(r.name, 'name', key), version: num(r.version, 'version', key), mode: String(r.mode) }));
  } catch (e) {
    if (e instanceof CorruptManifestError) throw e;
    throw new CorruptManifestError(`unreadable Parquet: ${(e as Error)?.message ?? e}`.slice(0, 300), key);
  }
}

/** Every manifest row of a file (or rows [start, end)); `expectRows` makes any other row count an error. */
export async function decodeManifests(bytes: Uint8Array, key?: string, expectRows?: number, range?: { start: number; end: number }): Promise<StoredManifest[]> {
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'PAR1') {
    throw new CorruptManifestError('not a Parquet file', key);
  }
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rowsRead: Array<Record<string, unknown>>;
  let names: Set<string>;
  try {
    const meta = parquetMetadata(file);
    if (expectRows !== undefined && Number(meta.num_rows) !== expectRows) {
      throw new CorruptManifestError(`expected ${expectRows} row, found ${meta.num_rows}`, key);
    }
    names = new Set(meta.schema.slice(1).map((e) => e.name));
    for (const required of ['dataset_id', 'name', 'schema_fingerprint', 'objects', 'version', 'created_at', 'updated_at']) {
      if (!names.has(required)) throw new CorruptManifestError(`column ${required} is missing`, key);
    }
    try {
      rowsRead = (await parquetReadObjects({ file, metadata: meta, utf8: true, rowStart: range?.start, rowEnd: range?.end })) as Array<Record<string, unknown>>;
    } catch (e) {
      // hyparquet reads Snappy itself; other codecs (a manifest written with ZSTD, say) load on demand
      if (!/compression codec/i.test(String((e as Error)?.message))) throw e;
      const { compressors } = await import('hyparquet-compressors');
      rowsRead = (await parquetReadObjects({ file, metadata: meta, utf8: true, compressors, rowStart: range?.start, rowEnd: range?.end })) as Array<Record<string, unknown>>;
    }
  } catch (e) {
    if (e instanceof CorruptManifestError) throw e;
    throw new CorruptManifestError(`unreadable Parquet: ${(e as Error)?.message ?? e}`.slice(0, 300), key);
  }
  if (expectRows !== undefined && rowsRead.length !== expectRows) {
    throw new CorruptManifestError(`expected ${expectRows} row, found ${rowsRead.length}`, key);
  }
  return rowsRead.map((row) => manifestFromRow(row, names, key));
}

function manifestFromRow(row: Record<string, unknown>, names: Set<string>, key?: string): StoredManifest {
  try {
    const objects: ObjectRef[] = rows(row.objects, 'objects', key).map((o) => ({
      key: str(o.key, 'objects.key', key),
      size: num(o.size, 'objects.size', key),
      row_count: o.row_count === null || o.row_count === undefined ? null : num(o.row_count, 'objects.row_count', key),
      ...(typeof o.schema_fingerprint === 'string' ? { schema_fingerprint: o.schema_fingerprint } : {}),
      ...(Array.isArray(o.stats)
        ? {
            stats: rows(o.stats, 'objects.stats', key).map((c) => ({
              name: str(c.name, 'objects.stats.name', key),
              min: typeof c.min === 'string' ? c.min : null,
              max: typeof c.max === 'string' ? c.max : null,
              nulls: c.nulls === null || c.nulls === undefined ? null : num(c.nulls, 'objects.stats.nulls', key),
            })),
          }
        : {}),
    }));
    const schema: SchemaColumn[] = names.has('schema')
      ? rows(row.schema, 'schema', key).map((c) => ({
          name: str(c.name, 'schema.name', key),
          type: str(c.type, 'schema.type', key),
          nullable: c.nullable === null || c.nullable === undefined ? true : Boolean(c.nullable),
        }))
      : [];
    const m: StoredManifest = {
      dataset_id: str(row.dataset_id, 'dataset_id', key),
      name: str(row.name, 'name', key),
      schema_fingerprint: str(row.schema_fingerprint, 'schema_fingerprint', key),
      schema,
      objects,
      row_count: row.row_count === null || row.row_count === undefined ? null : num(row.row_count, 'row_count', key),
      version: num(row.version, 'version', key),
      created_at: iso(row.created_at, 'created_at', key),
      updated_at: iso(row.updated_at, 'updated_at', key),
      commit_id: typeof row.commit_id === 'string' ? row.commit_id : '',
      mode: row.mode === 'append' || row.mode === 'replace' || row.mode === 'create' || row.mode === 'drop' || row.mode === 'compact' ? row.mode : 'replace',
    };
    const segments = names.has('segments') && row.segments ? rows(row.segments, 'segments', key) : [];
    if (segments.length) {
      m.segments = segments.map((g) => ({ key: str(g.key, 'segments.key', key), objects: num(g.objects, 'segments.objects', key) }));
    }
    const changes = names.has('schema_changes') && row.schema_changes ? rows(row.schema_changes, 'schema_changes', key) : [];
    if (changes.length) {
      m.schema_changes = changes.map((c) => {
        const change = str(c.change, 'schema_changes.change', key);
        if (change !== 'added' && change !== 'widened' && change !== 'missing' && change !== 'removed' && change !== 'changed') {
          throw new CorruptManifestError('schema_changes.change is unknown', key);
        }
        return {
          change,
          name: str(c.name, 'schema_changes.name', key),
          ...(typeof c.from === 'string' ? { from: c.from } : {}),
          ...(typeof c.to === 'string' ? { to: c.to } : {}),
        };
      });
    }
    if (!Number.isInteger(m.version) || m.version < 1) throw new CorruptManifestError('version must be >= 1', key);
    return m;
  } catch (e) {
    if (e instanceof CorruptManifestError) throw e;
    throw new CorruptManifestError(`malformed manifest: ${(e as Error)?.message ?? e}`.slice(0, 300), key);
  }
}
