/**
 * Manifest codec: one manifest = one Parquet file with a single row, written with apache-arrow +
 * parquet-wasm (objects and schema as lists of structs). Anything that is not a readable manifest
 * (truncated, corrupt, a foreign Parquet file) is rejected with CorruptManifestError.
 */
import {
  Bool,
  Field,
  Int32,
  Int64,
  List,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
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

type ParquetWasm = typeof import('parquet-wasm');
let pq: ParquetWasm | undefined;
async function parquet(): Promise<ParquetWasm> {
  pq ??= await import('parquet-wasm');
  return pq;
}

const schemaItem = new Struct([
  new Field('name', new Utf8(), false),
  new Field('type', new Utf8(), false),
  new Field('nullable', new Bool(), false),
]);
const objectItem = new Struct([
  new Field('key', new Utf8(), false),
  new Field('size', new Int64(), false),
  new Field('row_count', new Int64(), true),
]);

function col<T extends DataType>(type: T, value: unknown) {
  return vectorFromArray([value] as never[], type);
}

export async function encodeManifest(m: StoredManifest): Promise<Uint8Array> {
  const ts = (iso: string) => Date.parse(iso);
  const table = new Table({
    format_version: col(new Int32(), MANIFEST_FORMAT_VERSION),
    dataset_id: col(new Utf8(), m.dataset_id),
    name: col(new Utf8(), m.name),
    schema_fingerprint: col(new Utf8(), m.schema_fingerprint),
    schema: col(new List(new Field('item', schemaItem, false)), m.schema.map((c) => ({ ...c }))),
    objects: col(
      new List(new Field('item', objectItem, false)),
      m.objects.map((o) => ({ key: o.key, size: BigInt(o.size), row_count: o.row_count === null ? null : BigInt(o.row_count) })),
    ),
    row_count: col(new Int64(), m.row_count === null ? null : BigInt(m.row_count)),
    version: col(new Int64(), BigInt(m.version)),
    created_at: makeVector({ type: new TimestampMillisecond('UTC'), data: new BigInt64Array([BigInt(ts(m.created_at))]) } as never),
    updated_at: makeVector({ type: new TimestampMillisecond('UTC'), data: new BigInt64Array([BigInt(ts(m.updated_at))]) } as never),
    commit_id: col(new Utf8(), m.commit_id),
    mode: col(new Utf8(), m.mode),
  });
  const p = await parquet();
  const wasmTable = p.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new p.WriterPropertiesBuilder().setCompression(p.Compression.ZSTD).setCreatedBy('lakehouse catalog').build();
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
  const arr = (v as { toArray?: () => unknown[] }).toArray?.();
  if (!Array.isArray(arr)) throw new CorruptManifestError(`${what} is not a list`, key);
  return arr.map((x) => {
    const j = (x as { toJSON?: () => Record<string, unknown> })?.toJSON?.();
    if (!j || typeof j !== 'object') throw new CorruptManifestError(`${what} has a malformed entry`, key);
    return j;
  });
}

export async function decodeManifest(bytes: Uint8Array, key?: string): Promise<StoredManifest> {
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'PAR1') {
    throw new CorruptManifestError('not a Parquet file', key);
  }
  const p = await parquet();
  let table: Table;
  try {
    const wt = p.readParquet(bytes);
    table = tableFromIPC(wt.intoIPCStream());
  } catch (e) {
    throw new CorruptManifestError(`unreadable Parquet: ${(e as Error)?.message ?? e}`.slice(0, 300), key);
  }
  if (table.numRows !== 1) throw new CorruptManifestError(`expected 1 row, found ${table.numRows}`, key);
  const names = new Set(table.schema.fields.map((f) => f.name));
  for (const required of ['dataset_id', 'name', 'schema_fingerprint', 'objects', 'version', 'created_at', 'updated_at']) {
    if (!names.has(required)) throw new CorruptManifestError(`column ${required} is missing`, key);
  }
  const row = table.get(0)!.toJSON() as Record<string, unknown>;
  try {
    const objects: ObjectRef[] = rows(row.objects, 'objects', key).map((o) => ({
      key: str(o.key, 'objects.key', key),
      size: num(o.size, 'objects.size', key),
      row_count: o.row_count === null || o.row_count === undefined ? null : num(o.row_count, 'objects.row_count', key),
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
      mode: row.mode === 'append' || row.mode === 'replace' || row.mode === 'create' ? row.mode : 'replace',
    };
    if (!Number.isInteger(m.version) || m.version < 1) throw new CorruptManifestError('version must be >= 1', key);
    return m;
  } catch (e) {
    if (e instanceof CorruptManifestError) throw e;
    throw new CorruptManifestError(`malformed manifest: ${(e as Error)?.message ?? e}`.slice(0, 300), key);
  }
}
