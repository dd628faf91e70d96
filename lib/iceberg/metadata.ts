/**
 * Table metadata (spec "Table Metadata", format v2) for one catalog version, derived from the
 * previous version's metadata (if any) and our manifest. One catalog version = one snapshot, with
 * sequence number = the catalog version, so sequence numbers grow by one per commit.
 */
import crypto from 'node:crypto';
import { icebergSchema, nameMapping, sameFields, type Column } from './schema.js';
import type { IcebergSchema, Snapshot, TableMetadata } from './types.js';

/** A snapshot id: positive, below 2^53 (exact as a JS number and in Avro `long`), stable per (dataset, version). */
export function snapshotId(datasetId: string, version: number): number {
  const h = crypto.createHash('sha256').update(`${datasetId}\x1f${version}`).digest();
  return Number(h.readBigUInt64BE() >> 12n) || 1;
}

export interface SnapshotInput {
  datasetId: string;
  version: number;
  /** Our manifest's `updated_at`, as epoch ms. */
  timestampMs: number;
  columns: readonly Column[];
  location: string;
  manifestList: string;
  operation: 'append' | 'overwrite';
  added: { files: number; records: number; bytes: number };
  total: { files: number; records: number; bytes: number };
  previous?: { metadata: TableMetadata; location: string };
}

/** The schema list with the version's schema in it (reused when the same fields exist already). */
export function schemasWith(prev: IcebergSchema[], columns: readonly Column[]): { all: IcebergSchema[]; current: IcebergSchema } {
  const candidate = icebergSchema(columns, 0);
  const same = prev.find((s) => sameFields(s, candidate));
  if (same) return { all: prev, current: same };
  const id = prev.reduce((m, s) => Math.max(m, s['schema-id'] + 1), 0);
  const current = { ...candidate, 'schema-id': id };
  return { all: [...prev, current], current };
}

export function nextMetadata(input: SnapshotInput): TableMetadata {
  const prev = input.previous?.metadata;
  const { all, current } = schemasWith(prev?.schemas ?? [], input.columns);
  const id = snapshotId(input.datasetId, input.version);
  const parent = prev?.['current-snapshot-id'];
  const removed = prev && input.operation === 'overwrite' ? currentTotals(prev) : undefined;
  const snapshot: Snapshot = {
    'snapshot-id': id,
    ...(parent !== undefined && parent !== -1 ? { 'parent-snapshot-id': parent } : {}),
    'sequence-number': input.version,
    'timestamp-ms': input.timestampMs,
    'manifest-list': input.manifestList,
    summary: {
      operation: input.operation,
      'added-data-files': String(input.added.files),
      'added-records': String(input.added.records),
      'added-files-size': String(input.added.bytes),
      ...(removed ? { 'deleted-data-files': removed.files, 'deleted-records': removed.records } : {}),
      'total-data-files': String(input.total.files),
      'total-records': String(input.total.records),
      'total-files-size': String(input.total.bytes),
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
      'lakehouse.version': String(input.version),
    },
    'schema-id': current['schema-id'],
  };
  const lastUpdated = Math.max(input.timestampMs, prev?.['last-updated-ms'] ?? 0);
  return {
    'format-version': 2,
    'table-uuid': input.datasetId,
    location: input.location,
    'last-sequence-number': input.version,
    'last-updated-ms': lastUpdated,
    'last-column-id': Math.max(prev?.['last-column-id'] ?? 0, ...current.fields.map((f) => f.id)),
    'current-schema-id': current['schema-id'],
    schemas: all,
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    // the spec's value for "no partition field assigned yet" (ids of partition fields start at 1000)
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: {
      ...(prev?.properties ?? {}),
      'schema.name-mapping.default': nameMapping(current),
      'write.format.default': 'parquet',
      'write.parquet.compression-codec': 'zstd',
    },
    'current-snapshot-id': id,
    snapshots: [...(prev?.snapshots ?? []), snapshot],
    'snapshot-log': [...(prev?.['snapshot-log'] ?? []), { 'snapshot-id': id, 'timestamp-ms': input.timestampMs }],
    'metadata-log': input.previous
      ? [...(prev?.['metadata-log'] ?? []), { 'metadata-file': input.previous.location, 'timestamp-ms': prev!['last-updated-ms'] }]
      : [],
    refs: { main: { 'snapshot-id': id, type: 'branch' } },
  };
}

function currentTotals(m: TableMetadata): { files: string; records: string } {
  const s = m.snapshots.find((x) => x['snapshot-id'] === m['current-snapshot-id']);
  return { files: s?.summary['total-data-files'] ?? '0', records: s?.summary['total-records'] ?? '0' };
}
