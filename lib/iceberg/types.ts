/**
 * Apache Iceberg v2 shapes we write (docs/adr/0010-iceberg-tables.md), the DuckDB → Iceberg type
 * mapping, and the metadata file name as a type of its own (as iceberg-rust's MetadataLocation).
 * Everything here is pure: no storage, no HTTP.
 */

export type IcebergPrimitive =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'binary'
  | `decimal(${number}, ${number})`;

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergPrimitive;
}

export interface IcebergSchema {
  type: 'struct';
  'schema-id': number;
  fields: IcebergField[];
}

export interface Snapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: { operation: 'append' | 'overwrite'; [k: string]: string };
  'schema-id': number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: IcebergSchema[];
  'default-spec-id': 0;
  'partition-specs': Array<{ 'spec-id': 0; fields: [] }>;
  'last-partition-id': 999;
  'default-sort-order-id': 0;
  'sort-orders': Array<{ 'order-id': 0; fields: [] }>;
  properties: Record<string, string>;
  'current-snapshot-id': number;
  snapshots: Snapshot[];
  'snapshot-log': Array<{ 'snapshot-id': number; 'timestamp-ms': number }>;
  'metadata-log': Array<{ 'metadata-file': string; 'timestamp-ms': number }>;
  refs: Record<string, { 'snapshot-id': number; type: 'branch' }>;
}

/** What a manifest entry says about one Parquet object. */
export interface DataFile {
  path: string;
  size: number;
  records: number;
  /** Per field id, where the footer told us. */
  valueCounts: Map<number, number>;
  nullCounts: Map<number, number>;
  lowerBounds: Map<number, Buffer>;
  upperBounds: Map<number, Buffer>;
}

/**
 * DuckDB column types (as manifests carry them) → Iceberg v2 types. Only mappings where the Parquet
 * DuckDB writes is what the Iceberg spec expects for that type; anything else has no Iceberg table.
 */
export function icebergType(duckType: string): IcebergPrimitive | undefined {
  switch (duckType) {
    case 'BIGINT':
      return 'long';
    case 'INTEGER':
      return 'int';
    case 'DOUBLE':
      return 'double';
    case 'FLOAT':
      return 'float';
    case 'BOOLEAN':
      return 'boolean';
    case 'DATE':
      return 'date';
    case 'TIMESTAMP':
      return 'timestamp'; // micros, not adjusted to UTC
    case 'TIMESTAMP WITH TIME ZONE':
      return 'timestamptz';
    case 'VARCHAR':
      return 'string';
    case 'BLOB':
      return 'binary';
  }
  const d = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  if (d) return `decimal(${Number(d[1])}, ${Number(d[2])})`;
  return undefined;
}

/**
 * A table metadata file name: `v<N>.metadata.json`, N = the catalog version it describes. Version
 * numbers are ours, so the location of any version's metadata is computed, never listed.
 */
export class MetadataFileName {
  private constructor(readonly version: number) {}

  static of(version: number): MetadataFileName {
    if (!Number.isSafeInteger(version) || version < 1) throw new Error(`invalid table version ${version}`);
    return new MetadataFileName(version);
  }

  static parse(fileName: string): MetadataFileName | undefined {
    const m = /^v([1-9]\d{0,11})\.metadata\.json$/.exec(fileName);
    return m ? new MetadataFileName(Number(m[1])) : undefined;
  }

  previous(): MetadataFileName | undefined {
    return this.version > 1 ? new MetadataFileName(this.version - 1) : undefined;
  }

  toString(): string {
    return `v${this.version}.metadata.json`;
  }
}
