/**
 * What an Iceberg manifest says about a Parquet object, read from its footer (one or two ranged
 * GETs): the exact record count, and per column value counts, null counts and — where the footer's
 * statistics make them exact or safely conservative — lower/upper bounds in Iceberg's single-value
 * serialisation (spec appendix D). Columns are matched by name (objects written before field ids).
 */
import fs from 'node:fs';
import { parquetMetadataAsync, type AsyncBuffer, type ParquetParsers } from 'hyparquet';
import { getObjectRange } from '../storage/objects.js';
import type { DataFile, IcebergField } from './types.js';

const TAIL = 64 * 1024;

/** Statistics values kept raw (numbers, bigints, bytes) rather than turned into Dates and strings. */
const RAW: ParquetParsers = {
  timestampFromMilliseconds: (v) => ({ unit: 'ms', v }),
  timestampFromMicroseconds: (v) => ({ unit: 'us', v }),
  timestampFromNanoseconds: (v) => ({ unit: 'ns', v }),
  dateFromDays: (d) => ({ days: d }),
  stringFromBytes: (b) => b,
  jsonFromBytes: (b) => b,
  geometryFromBytes: (b) => b,
  geographyFromBytes: (b) => b,
  uuidFromBytes: (b) => b,
};

/** A window on an object of known size that reads its tail once and anything else by range. */
function objectBuffer(key: string, size: number): AsyncBuffer & { requests: number } {
  const tailStart = Math.max(0, size - TAIL);
  let tail: Promise<Buffer> | undefined;
  const buf = {
    byteLength: size,
    requests: 0,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      if (start >= tailStart) {
        tail ??= (buf.requests++, getObjectRange(key, tailStart, size)).then((b) => {
          if (!b) throw new Error(`object ${key} disappeared`);
          return b;
        });
        const b = await tail;
        return toArrayBuffer(b.subarray(start - tailStart, end - tailStart));
      }
      buf.requests++;
      const b = await getObjectRange(key, start, end);
      if (!b) throw new Error(`object ${key} disappeared`);
      return toArrayBuffer(b);
    },
  };
  return buf;
}

/** The same window on a local file that holds the object's bytes (the file it was uploaded from). */
function fileBuffer(file: string, size: number): AsyncBuffer & { requests: number } {
  return {
    byteLength: size,
    requests: 0,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const fh = await fs.promises.open(file, 'r');
      try {
        const b = Buffer.alloc(end - start);
        const { bytesRead } = await fh.read(b, 0, b.length, start);
        if (bytesRead !== b.length) throw new Error('the local copy of an object is shorter than the object');
        return toArrayBuffer(b);
      } finally {
        await fh.close();
      }
    },
  };
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

type Raw = unknown;

/** Iceberg's single-value binary form of a footer min/max, or undefined where it is not exact for the type. */
function bound(type: IcebergField['type'], v: Raw, which: 'lower' | 'upper', exact: boolean | undefined): Buffer | undefined {
  if (v === undefined || v === null) return undefined;
  switch (type) {
    case 'long': {
      if (typeof v !== 'bigint') return undefined;
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v);
      return b;
    }
    case 'int': {
      if (typeof v !== 'number') return undefined;
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return b;
    }
    case 'double': {
      if (typeof v !== 'number' || Number.isNaN(v)) return undefined;
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      return b;
    }
    case 'boolean':
      return typeof v === 'boolean' ? Buffer.from([v ? 1 : 0]) : undefined;
    case 'date': {
      const days = (v as { days?: unknown }).days;
      if (typeof days !== 'number') return undefined;
      const b = Buffer.alloc(4);
      b.writeInt32LE(days);
      return b;
    }
    case 'timestamp':
    case 'timestamptz': {
      const t = v as { unit?: string; v?: unknown };
      if (t.unit !== 'us' || typeof t.v !== 'bigint') return undefined;
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(t.v);
      return b;
    }
    case 'string':
      // a truncated minimum is still a lower bound; a truncated maximum is not an upper bound
      if (!(v instanceof Uint8Array)) return undefined;
      if (which === 'upper' && exact !== true) return undefined;
      return Buffer.from(v);
    default:
      return undefined; // float, decimal, binary, timestamps in other units: no bounds
  }
}

export interface FooterRead {
  file: DataFile;
  requests: number;
}

/**
 * Reads an object's footer and describes it for a manifest entry, against the table's fields.
 * `local`: a local file with the object's exact bytes (the one just uploaded), read instead of the store.
 */
export async function describeDataFile(key: string, path: string, size: number, fields: IcebergField[], local?: string): Promise<FooterRead> {
  const buffer = local ? fileBuffer(local, size) : objectBuffer(key, size);
  const meta = await parquetMetadataAsync(buffer, { parsers: RAW, initialFetchSize: Math.min(size, TAIL) });
  const records = Number(meta.num_rows);
  const file: DataFile = { path, size, records, valueCounts: new Map(), nullCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map() };
  const byName = new Map(fields.map((f) => [f.name, f]));
  // per top-level column: sum null counts over row groups; bounds only if every row group has them
  const acc = new Map<number, { nulls: number | undefined; lo: Buffer[] | undefined; hi: Buffer[] | undefined }>();
  for (const rg of meta.row_groups) {
    for (const chunk of rg.columns) {
      const md = chunk.meta_data;
      const name = md?.path_in_schema;
      if (!md || !name || name.length !== 1) continue;
      const f = byName.get(name[0]!);
      if (!f) continue;
      const a = acc.get(f.id) ?? { nulls: 0, lo: [], hi: [] };
      const s = md.statistics;
      a.nulls = a.nulls !== undefined && s?.null_count !== undefined ? a.nulls + Number(s.null_count) : undefined;
      const lo = s ? bound(f.type, s.min_value, 'lower', s.is_min_value_exact) : undefined;
      const hi = s ? bound(f.type, s.max_value, 'upper', s.is_max_value_exact) : undefined;
      a.lo = a.lo && lo ? [...a.lo, lo] : undefined;
      a.hi = a.hi && hi ? [...a.hi, hi] : undefined;
      acc.set(f.id, a);
    }
  }
  const rowGroups = meta.row_groups.length;
  for (const [id, a] of acc) {
    const f = fields.find((x) => x.id === id)!;
    file.valueCounts.set(id, records);
    if (a.nulls !== undefined) file.nullCounts.set(id, a.nulls);
    if (rowGroups > 0 && a.lo?.length === rowGroups) file.lowerBounds.set(id, a.lo.reduce((m, b) => (compare(f.type, b, m) < 0 ? b : m)));
    if (rowGroups > 0 && a.hi?.length === rowGroups) file.upperBounds.set(id, a.hi.reduce((m, b) => (compare(f.type, b, m) > 0 ? b : m)));
  }
  return { file, requests: buffer.requests };
}

/** Orders two serialised values of a type (for combining row-group bounds). */
function compare(type: IcebergField['type'], a: Buffer, b: Buffer): number {
  switch (type) {
    case 'long':
    case 'timestamp':
    case 'timestamptz': {
      const x = a.readBigInt64LE();
      const y = b.readBigInt64LE();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'int':
    case 'date':
      return a.readInt32LE() - b.readInt32LE();
    case 'double':
      return a.readDoubleLE() - b.readDoubleLE();
    default:
      return Buffer.compare(a, b);
  }
}
