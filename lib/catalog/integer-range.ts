/**
 * Whether the integers stored in some objects' columns are all within ±(2^53 − 1), read from each
 * object's Parquet footer (two ranged GETs per object: the footer length, then the footer).
 * Used before a column widens from BIGINT to DOUBLE. A column chunk without min/max statistics
 * cannot be proven safe.
 */
import { parquetMetadata } from 'hyparquet';
import { getObjectRange, headObject } from '../storage/objects.js';
import { mapLimit } from './store.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface RangeProblem {
  key: string;
  column: string;
  reason: string;
}

async function footer(key: string): Promise<ArrayBuffer | undefined> {
  const head = await headObject(key);
  if (!head || head.size < 12) return undefined;
  const tail = await getObjectRange(key, head.size - 8, head.size);
  if (!tail || tail.subarray(4).toString('latin1') !== 'PAR1') return undefined;
  const len = tail.readUInt32LE(0);
  const start = head.size - 8 - len;
  if (start < 4) return undefined;
  const meta = await getObjectRange(key, start, head.size);
  if (!meta) return undefined;
  // hyparquet reads the footer from the end of the buffer it is given
  return meta.buffer.slice(meta.byteOffset, meta.byteOffset + meta.byteLength) as ArrayBuffer;
}

function outside(v: unknown): boolean {
  if (typeof v === 'bigint') return v > SAFE || v < -SAFE;
  if (typeof v === 'number') return !Number.isSafeInteger(v);
  return true;
}

/** The first object/column whose integers are not provably within ±(2^53 − 1), or undefined. */
export async function unsafeIntegers(keys: string[], columns: string[]): Promise<RangeProblem | undefined> {
  const wanted = new Set(columns);
  const problems = await mapLimit(keys, 16, async (key): Promise<RangeProblem | undefined> => {
    const buf = await footer(key);
    if (!buf) return { key, column: columns[0]!, reason: 'its Parquet footer could not be read' };
    const meta = parquetMetadata(buf);
    for (const rg of meta.row_groups) {
      for (const cc of rg.columns) {
        const md = cc.meta_data;
        const name = md?.path_in_schema?.[0];
        if (!md || !name || !wanted.has(name) || md.type !== 'INT64') continue;
        const st = md.statistics;
        const min = st?.min_value ?? st?.min;
        const max = st?.max_value ?? st?.max;
        if (min === undefined || max === undefined || min === null || max === null) {
          if (Number(md.num_values) > 0 && Number(st?.null_count ?? -1) !== Number(md.num_values)) {
            return { key, column: name, reason: 'it has no min/max statistics' };
          }
          continue;
        }
        if (outside(min) || outside(max)) return { key, column: name, reason: 'it holds integers beyond ±(2^53 − 1)' };
      }
    }
    return undefined;
  });
  return problems.find((p) => p !== undefined);
}
