/** The storage type rules of the contract, byte by byte (no S3, no DuckDB). */
import { describe, it, expect } from 'vitest';
import { T_ALL, classify, isBigint, isDouble, typeName, whyNot } from '../lib/ingest/types.js';

const b = (s: string) => Buffer.from(s, 'utf8');
const dbl = (s: string) => isDouble(b(s), 0, b(s).length);
const int = (s: string) => isBigint(b(s), 0, b(s).length);
const type = (s: string) => typeName(classify(b(s), 0, b(s).length, T_ALL));

describe('DOUBLE', () => {
  it('accepts a missing leading or trailing digit around the point', () => {
    for (const v of ['.5', '-.5', '+.5', '5.', '-5.', '.097', '0.5', '1e5', '.5e-3', '5.E2']) expect({ v, ok: dbl(v) }).toEqual({ v, ok: true });
  });
  it('does not count leading zeros or trailing fractional zeros as significant digits', () => {
    for (const v of ['0.155100000000000', '0.021300000000000', '123456789012345.000000', '0.000000000000000000001234']) {
      expect({ v, ok: dbl(v) }).toEqual({ v, ok: true });
    }
    // 16 significant digits would be rounded by a double
    for (const v of ['1234567890123456', '0.1234567890123456', '1.000000000000001']) expect({ v, ok: dbl(v) }).toEqual({ v, ok: false });
    // zeros between significant digits count
    expect(dbl('1.00000000000001')).toBe(true);
    expect(dbl('1.000000000000001')).toBe(false);
  });
  it('refuses what is not a number, a leading zero before a digit, a lone point or sign', () => {
    for (const v of ['.', '-', '+', '-.', 'e5', '.e5', '007', '00.5', '1.2.3', '1e', '1e+', '5..', 'NaN', '1,5', '1 000']) {
      expect({ v, ok: dbl(v) }).toEqual({ v, ok: false });
    }
  });
  it('types a column of such values as DOUBLE, and integers stay BIGINT', () => {
    expect(type('.097')).toBe('DOUBLE');
    expect(type('5.')).toBe('DOUBLE');
    expect(type('0.155100000000000')).toBe('DOUBLE');
    expect(type('42')).toBe('BIGINT');
    expect(type('-9223372036854775808')).toBe('BIGINT');
    expect(int('9223372036854775808')).toBe(false);
    expect(type('02134')).toBe('VARCHAR');
  });
  it('explains a refused value', () => {
    expect(whyNot('DOUBLE', '0.12345678901234567')).toMatch(/significant digits/);
    expect(whyNot('DOUBLE', '.12345678901234567')).toMatch(/significant digits/);
    expect(whyNot('DOUBLE', '007')).toBe('leading zero');
    expect(whyNot('DOUBLE', 'abc')).toBe('not a number');
  });
});
