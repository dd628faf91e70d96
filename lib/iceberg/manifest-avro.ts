/**
 * Iceberg v2 manifests and manifest lists as Avro object container files (spec "Manifests",
 * "Manifest Lists"), written and read with avsc. Every field carries its spec `field-id`: readers
 * such as DuckDB and Java resolve Avro fields by id, not by name.
 */
import { PassThrough } from 'node:stream';
import avro from 'avsc';
import type { DataFile, IcebergSchema } from './types.js';

const opt = (type: unknown) => ['null', type];

/** A map with int keys, as Iceberg encodes it: an array of key/value records. */
function intMap(kId: number, vId: number, value: string) {
  return {
    type: 'array',
    logicalType: 'map',
    items: {
      type: 'record',
      name: `k${kId}_v${vId}`,
      fields: [
        { name: 'key', type: 'int', 'field-id': kId },
        { name: 'value', type: value, 'field-id': vId },
      ],
    },
  };
}

const MANIFEST_ENTRY = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
    { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
    {
      name: 'data_file',
      'field-id': 2,
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int', 'field-id': 134 },
          { name: 'file_path', type: 'string', 'field-id': 100 },
          { name: 'file_format', type: 'string', 'field-id': 101 },
          { name: 'partition', type: { type: 'record', name: 'r102', fields: [] }, 'field-id': 102 },
          { name: 'record_count', type: 'long', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          { name: 'column_sizes', type: opt(intMap(117, 118, 'long')), default: null, 'field-id': 108 },
          { name: 'value_counts', type: opt(intMap(119, 120, 'long')), default: null, 'field-id': 109 },
          { name: 'null_value_counts', type: opt(intMap(121, 122, 'long')), default: null, 'field-id': 110 },
          { name: 'nan_value_counts', type: opt(intMap(138, 139, 'long')), default: null, 'field-id': 137 },
          { name: 'lower_bounds', type: opt(intMap(126, 127, 'bytes')), default: null, 'field-id': 125 },
          { name: 'upper_bounds', type: opt(intMap(129, 130, 'bytes')), default: null, 'field-id': 128 },
          { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
          { name: 'split_offsets', type: opt({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
          { name: 'equality_ids', type: opt({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
          { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
        ],
      },
    },
  ],
};

const MANIFEST_FILE = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
};


/** One entry of a manifest list. */
export interface ManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  content: number;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: number;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partitions: null;
  key_metadata: null;
}

/** Writes an Avro container file; the schema JSON goes into the header as given (field ids included). */
async function encode(schema: object, records: unknown[], metadata: Record<string, string>): Promise<Buffer> {
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, { metadata: meta, codec: 'null' } as never);
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    sink.on('end', resolve);
    encoder.on('error', reject);
  });
  encoder.pipe(sink);
  for (const r of records) encoder.write(r);
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}

/** Decodes an Avro container file: its records and its file metadata. */
export async function decodeAvro<T>(bytes: Buffer): Promise<{ records: T[]; metadata: Record<string, string> }> {
  const decoder = new avro.streams.BlockDecoder();
  const records: T[] = [];
  let metadata: Record<string, string> = {};
  decoder.on('metadata', (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
    metadata = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
  });
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (r: T) => records.push(r));
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  decoder.end(bytes);
  await done;
  return { records, metadata };
}

function pairs<V>(m: Map<number, V>): Array<{ key: number; value: V }> | null {
  return m.size ? [...m].map(([key, value]) => ({ key, value })) : null;
}

/** A data manifest listing `files` as ADDED by `snapshotId` (sequence numbers inherited). */
export function encodeManifest(files: DataFile[], snapshotId: number, schema: IcebergSchema): Promise<Buffer> {
  const entries = files.map((f) => ({
    status: 1,
    snapshot_id: snapshotId,
    sequence_number: null,
    file_sequence_number: null,
    data_file: {
      content: 0,
      file_path: f.path,
      file_format: 'PARQUET',
      partition: {},
      record_count: f.records,
      file_size_in_bytes: f.size,
      column_sizes: null,
      value_counts: pairs(f.valueCounts),
      null_value_counts: pairs(f.nullCounts),
      nan_value_counts: null,
      lower_bounds: pairs(f.lowerBounds),
      upper_bounds: pairs(f.upperBounds),
      key_metadata: null,
      split_offsets: null,
      equality_ids: null,
      sort_order_id: null,
    },
  }));
  return encode(MANIFEST_ENTRY, entries, {
    schema: JSON.stringify(schema),
    'schema-id': String(schema['schema-id']),
    'partition-spec': '[]',
    'partition-spec-id': '0',
    'format-version': '2',
    content: 'data',
  });
}

export function encodeManifestList(entries: ManifestFile[], snapshot: { id: number; parent?: number; sequence: number }): Promise<Buffer> {
  return encode(MANIFEST_FILE, entries, {
    'snapshot-id': String(snapshot.id),
    'parent-snapshot-id': snapshot.parent === undefined ? 'null' : String(snapshot.parent),
    'sequence-number': String(snapshot.sequence),
    'format-version': '2',
  });
}

export async function decodeManifestList(bytes: Buffer): Promise<ManifestFile[]> {
  return (await decodeAvro<ManifestFile>(bytes)).records.map((r) => ({ ...r }));
}
