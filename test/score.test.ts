/**
 * Every candidate dialect is scored straight from the scanner (score.ts scoreSample), without the
 * sample records that scoreRecords reads. The two must give the same score, to the last bit, or
 * the detector would choose differently: compared here over every file of the real-world corpus
 * (the head sample chooseDialect scores) under many dialects, over seeded random texts full of
 * quotes, escapes, blank and comment lines, padding and numbers written for readers, and over the
 * edge cases one at a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanText, scoreRecords, scoreSample } from '../lib/ingest/score.js';
import { parseSample } from '../lib/ingest/sample.js';
import type { Dialect } from '../lib/ingest/scan.js';
import { CORPUS_DIR, loadTruth } from './helpers/corpus.js';
import { mulberry32 as rng } from '../scripts/gen-workers.js';

const SAMPLE = 256 * 1024;
const RECORDS = 1000;

function dialects(): Dialect[] {
  const out: Dialect[] = [];
  for (const delim of [',', ';', '\t', '|', ':', '^', ' ']) {
    const dc = delim.charCodeAt(0);
    for (const [quote, escape] of [['"', '"'], ['"', '\\'], ["'", "'"], ['', '']] as const) {
      const q = quote ? quote.charCodeAt(0) : -1;
      out.push({ delimiter: dc, quote: q, escape: escape ? escape.charCodeAt(0) : -1, comment: -1, trim: false });
      if (delim === ',' || delim === ';') out.push({ delimiter: dc, quote: q, escape: escape ? escape.charCodeAt(0) : -1, comment: 35, trim: delim === ';' });
    }
  }
  return out;
}

const label = (d: Dialect) => JSON.stringify({ ...d, delimiter: String.fromCharCode(d.delimiter) });

function expectSame(buf: Buffer, final: boolean, what: string): void {
  for (const d of dialects()) {
    const want = scoreRecords(parseSample(buf, d, final, RECORDS), d);
    expect(scoreSample(buf, d, final, RECORDS), `${what} ${label(d)}`).toStrictEqual(want);
  }
}

describe('scoreSample gives what scoreRecords gives on parsed records', () => {
  const files = loadTruth().map((t) => path.join(CORPUS_DIR, t.file));

  it('on the head sample of every real-world corpus file, under every dialect', () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
    for (const f of files) {
      const all = fs.readFileSync(f);
      const buf = all.subarray(0, SAMPLE);
      expectSame(buf, buf.length === all.length, path.relative(CORPUS_DIR, f));
    }
  });

  it('on seeded random texts (quotes, escapes, blank and comment lines, padding, reader numbers)', () => {
    const atoms = ['1', '-7', '3.5', '007', '1,234', "1'234", '12,5 %', 'true', '2020-02-29', 'x', ' x', "'a'", 'é', '', ' ', '"', '""', '\\"', '#c', ',', ';', '\t', '|'];
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const sep = [',', ';', '\t', '|', ' '][seed % 5]!;
      const lines: string[] = [];
      const n = 1 + Math.floor(r() * 30);
      for (let k = 0; k < n; k++) {
        const roll = r();
        if (roll < 0.08) lines.push('');
        else if (roll < 0.14) lines.push(`# note ${k}`);
        else {
          const fields = 1 + Math.floor(r() * 5);
          const cells = Array.from({ length: fields }, () => {
            const a = atoms[Math.floor(r() * atoms.length)]!;
            return r() < 0.2 ? `"${a}${r() < 0.2 ? '\n' : ''}"` : a;
          });
          lines.push(cells.join(r() < 0.1 ? ` ${sep} ` : sep));
        }
      }
      const text = lines.join(r() < 0.7 ? '\n' : '\r\n') + (r() < 0.5 ? '\n' : '');
      expectSame(Buffer.from(text), r() < 0.7, `seed ${seed}`);
    }
  });

  it('on the edge cases one at a time', () => {
    const cases = [
      '',
      '\n\n\n',
      'a,b\n\n1,2\n',
      '#comment\na,b\n1,2\n',
      '  #x,1\n2,3\n',
      '"unterminated,1\n2,3\n',
      '"a"x,1\n2,3\n',
      '"",""\n"1",2\n',
      'a\\,b,c\n"x\\"y",2\n',
      "'q',1\n'r',2\n",
      ' 1, 2\n 3, 4\n',
      'Hans;Berlin;1\nEva;Bonn;2\n',
      '1.234,5;x\n2.345,6;y\n',
      "1'234,x\n5'678,y\n",
    ];
    for (const c of cases) for (const final of [true, false]) expectSame(Buffer.from(c), final, JSON.stringify(c));
  });
});

describe('cleanText: does a text cell look like a value rather than a wrong split?', () => {
  const dialect = (delim: string, quote: string, trim = false): Dialect => ({
    delimiter: delim.charCodeAt(0),
    quote: quote ? quote.charCodeAt(0) : -1,
    escape: quote ? quote.charCodeAt(0) : -1,
    comment: -1,
    trim,
  });
  const cases: Array<[string, boolean, Dialect, boolean]> = [
    ['plain words', false, dialect(',', '"'), true],
    ['héllo wörld', false, dialect(',', '"'), true],
    ['anything "goes" when quoted', true, dialect(',', '"'), true],
    [' leading space', false, dialect(',', '"'), false],
    [' leading space', false, dialect(',', '"', true), true],
    ['   ', false, dialect(',', '"'), true],
    ["'edge", false, dialect(',', '"'), false],
    ["edge'", false, dialect(',', '"'), false],
    ["in'side", false, dialect(',', '"'), true],
    ['"edge', false, dialect(',', "'"), false],
    ['in"side', false, dialect(',', '"'), false],
    ["in'side", false, dialect(',', "'"), false],
    ['a;b', false, dialect(',', '"'), false],
    ['a; b', false, dialect(',', '"'), true],
    ['a;', false, dialect(',', '"'), true],
    ['a;b', false, dialect(';', '"'), true],
    ['a,b', false, dialect(';', '"'), false],
    ['a, b', false, dialect(';', '"'), true],
    ['1,5', false, dialect(';', '"'), true],
    ['1.234,5', false, dialect(';', '"'), true],
    ['a|b', false, dialect(',', '"'), false],
    ['a|b', false, dialect('|', '"'), true],
    ['a\tb', false, dialect(',', '"'), false],
    ['a\t b', false, dialect(',', '"'), false],
    ['12\t', false, dialect(',', '"'), true],
    ['x', false, dialect(',', ''), true],
    ['"x"', false, dialect(',', ''), false],
  ];
  for (const [v, quoted, d, want] of cases) {
    it(`${JSON.stringify(v)}${quoted ? ' (quoted)' : ''} with ${label(d)}: ${want}`, () => {
      expect(cleanText(v, quoted, d)).toBe(want);
    });
  }
});
