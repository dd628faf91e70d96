/**
 * The structural index of a block of CSV bytes: the offsets of every delimiter, quote, LF and CR
 * in it, in order, found sixteen bytes at a time by a small WebAssembly SIMD module
 * (wasm/structural.wat, assembled by scripts/build-wasm.mjs). The scanner's fast path walks these
 * offsets instead of testing every byte in JavaScript (scan.ts).
 *
 * One index per thread, reused: a block is copied into the module's memory and indexed there,
 * at most BLOCK bytes at a time, so memory stays fixed (~1.4 MB) whatever the file. A scan that
 * finds the index taken (a scan started from inside another scan's sink) goes without it.
 */
import { STRUCTURAL_WASM } from './wasm/structural-module.js';

/** Bytes indexed per fill (the module's memory is laid out for this many). */
export const BLOCK = 262_144;
/** Where the module writes the offsets (wasm/structural.wat). */
const OUT = 262_160;

/** The part of the WebAssembly API used here (this project's TypeScript lib has no DOM types). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface Exports {
  memory: { buffer: ArrayBuffer };
  index: (len: number, a: number, b: number, c: number, d: number) => number;
}

export class StructuralIndex {
  /** Offsets of the last fill, relative to its `from`: `positions[0, count)`. */
  readonly positions: Int32Array;
  private readonly memory: Uint8Array;
  private readonly run: (len: number, a: number, b: number, c: number, d: number) => number;
  private taken = false;

  private constructor(exports: Exports) {
    const { memory, index } = exports;
    this.memory = new Uint8Array(memory.buffer);
    this.positions = new Int32Array(memory.buffer, OUT, BLOCK);
    this.run = index;
  }

  private static shared: StructuralIndex | null | undefined;

  /** This thread's index, unless a scan holds it (or WebAssembly is missing): release it after use. */
  static acquire(): StructuralIndex | undefined {
    if (StructuralIndex.shared === undefined) {
      try {
        const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
        const instance = new wasm.Instance(new wasm.Module(Buffer.from(STRUCTURAL_WASM, 'base64')));
        StructuralIndex.shared = new StructuralIndex(instance.exports as unknown as Exports);
      } catch {
        StructuralIndex.shared = null;
      }
    }
    const ix = StructuralIndex.shared;
    if (!ix || ix.taken) return undefined;
    ix.taken = true;
    return ix;
  }

  release(): void {
    this.taken = false;
  }

  /**
   * Indexes b[from, min(end, from + BLOCK)) for the four bytes `delim`, `quote`, LF and CR (pass the
   * delimiter again for a dialect without quote) and returns how many offsets `positions` holds.
   */
  fill(b: Uint8Array, from: number, end: number, delim: number, quote: number): number {
    const to = Math.min(end, from + BLOCK);
    this.memory.set(b.subarray(from, to), 0);
    return this.run(to - from, delim, quote, 10, 13);
  }
}
