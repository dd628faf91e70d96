/**
 * The structural index (lib/ingest/structural.ts): the WebAssembly module carried in
 * structural-module.ts is what wasm/structural.wat assembles to, and a fill finds exactly the
 * offsets a byte-by-byte loop finds — any block length (not only multiples of 16), bytes left in
 * the module's memory by an earlier, longer block never counted.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK, StructuralIndex } from '../lib/ingest/structural.js';
import { STRUCTURAL_WASM } from '../lib/ingest/wasm/structural-module.js';
import { mulberry32 as rng } from '../scripts/gen-workers.js';
// @ts-expect-error a plain .mjs script without types
import { assemble, moduleSource } from '../scripts/build-wasm.mjs';

function reference(b: Uint8Array, from: number, end: number, wanted: number[]): number[] {
  const out: number[] = [];
  for (let i = from; i < Math.min(end, from + BLOCK); i++) if (wanted.includes(b[i]!)) out.push(i - from);
  return out;
}

describe('structural index', () => {
  it('the module in structural-module.ts is what structural.wat assembles to', async () => {
    const bytes = (await assemble()) as Buffer;
    expect(Buffer.from(STRUCTURAL_WASM, 'base64').equals(bytes)).toBe(true);
    expect(typeof moduleSource(bytes)).toBe('string');
  });

  it('finds every delimiter, quote, LF and CR, and nothing else, at any length and offset', () => {
    const r = rng(4242);
    const alphabet = [44, 59, 34, 10, 13, 97, 48, 0, 255, 9];
    const big = new Uint8Array(BLOCK + 4096);
    for (let i = 0; i < big.length; i++) big[i] = alphabet[Math.floor(r() * alphabet.length)]!;
    const ix = StructuralIndex.acquire()!;
    expect(ix).toBeDefined();
    // taken until released: a nested scan goes without it
    expect(StructuralIndex.acquire()).toBeUndefined();
    try {
      // a full block first, so later short blocks sit on stale bytes
      const cases: Array<[number, number]> = [[0, big.length], [1, 18], [5, 5 + 31], [0, 15], [7, 8], [100, 100], [4096, big.length]];
      for (let n = 0; n < 200; n++) {
        const from = Math.floor(r() * 5000);
        cases.push([from, from + Math.floor(r() * 70)]);
      }
      for (const [delim, quote] of [[44, 34], [59, 34], [9, 9]] as const) {
        for (const [from, end] of cases) {
          const count = ix.fill(big, from, end, delim, quote);
          expect(Array.from(ix.positions.subarray(0, count)), `${from}-${end}`).toEqual(reference(big, from, end, [delim, quote, 10, 13]));
        }
      }
    } finally {
      ix.release();
    }
    const again = StructuralIndex.acquire();
    expect(again).toBe(ix);
    again!.release();
  });
});
