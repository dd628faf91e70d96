/**
 * The scanner's fast path (a record that is one line ending in LF or CRLF, with simple quoted
 * fields or none, read off the structural index) must find exactly what the general state machine finds: every cell, every
 * type, every bad record, blank and comment line, newline count and line number — whatever the
 * chunk boundaries. Random texts (seeded, so a failure can be replayed) over a small alphabet that
 * mixes both kinds of line, scanned both ways at several chunk sizes and compared.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanFile } from '../lib/ingest/scan-file.js';
import type { Dialect, ScannedRecord, ScanOptions } from '../lib/ingest/scan.js';
import { mulberry32 as rng } from '../scripts/gen-workers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-fast-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ATOMS = ['1', '42', '-7', '3.5', '007', 'true', '2020-02-29', 'x', 'é', ' ', '"', '""', '\\', '#', ',', ';', '\n', '\r\n', '\r'];

function randomText(r: () => number, sep: string): string {
  const rows: string[] = [];
  const fields = 1 + Math.floor(r() * 4);
  const lines = 1 + Math.floor(r() * 40);
  for (let k = 0; k < lines; k++) {
    const cells: string[] = [];
    for (let j = 0; j < fields; j++) {
      const roll = r();
      if (roll < 0.15) {
        // noise: any atom, which may be a quote, a delimiter or a line end
        cells.push(ATOMS[Math.floor(r() * ATOMS.length)]!);
      } else if (roll < 0.3) {
        cells.push(`"${ATOMS[Math.floor(r() * 8)]}${r() < 0.3 ? sep : ''}${r() < 0.2 ? '\n' : ''}"`);
      } else cells.push(ATOMS[Math.floor(r() * 8)]!);
    }
    rows.push(cells.join(sep));
  }
  return rows.join(r() < 0.8 ? '\n' : '\r\n') + (r() < 0.7 ? '\n' : '');
}

function scanBoth(file: string, opts: Omit<ScanOptions, 'sink'>, chunk: number) {
  const run = (generic: boolean) => {
    const records: string[] = [];
    const sink = {
      record: (rec: ScannedRecord, isHeader: boolean) => {
        const cells = Array.from({ length: rec.fields }, (_, j) => `${rec.text(j)}|${rec.quoted(j)}|${rec.types(j, 31)}`);
        records.push(`${isHeader ? 'H' : 'D'}${rec.line}@${rec.start}-${rec.end}:${cells.join('¦')}`);
      },
      raw: (rec: ScannedRecord, broken: string) => {
        records.push(`R${rec.line}@${rec.start}-${rec.end}:${rec.fields}:${broken}:${Array.from({ length: rec.fields }, (_, j) => rec.text(j)).join('¦')}`);
      },
    };
    const result = scanFile(file, 0, fs.statSync(file).size, { ...opts, sink, generic }, chunk);
    return { records, result: JSON.parse(JSON.stringify(result)) as unknown };
  };
  return { fast: run(false), generic: run(true) };
}

const DIALECTS: Array<[string, Dialect]> = [
  ['comma, doubled quotes', { delimiter: 44, quote: 34, escape: 34, comment: -1, trim: false }],
  ['semicolon, backslash escape, # comments', { delimiter: 59, quote: 34, escape: 92, comment: 35, trim: false }],
  ['comma, no quoting', { delimiter: 44, quote: -1, escape: -1, comment: -1, trim: false }],
];

describe('scanner fast path = general state machine', () => {
  for (const [label, dialect] of DIALECTS) {
    it(`${label}: 300 random texts, chunks of 5, 64 and 64 KiB, header or not, raw or not`, () => {
      const r = rng(label.length * 7919);
      const sep = String.fromCharCode(dialect.delimiter);
      let fastRecords = 0;
      for (let n = 0; n < 300; n++) {
        const file = path.join(dir, `t${n}.csv`);
        fs.writeFileSync(file, randomText(r, sep));
        const opts = { dialect, header: r() < 0.5, keepGoing: r() < 0.7, raw: r() < 0.2 };
        for (const chunk of [5, 64, 64 * 1024]) {
          const { fast, generic } = scanBoth(file, opts, chunk);
          expect(fast, `text ${n}, chunk ${chunk}: ${JSON.stringify(fs.readFileSync(file, 'utf8'))}`).toEqual(generic);
          fastRecords += fast.records.length;
        }
      }
      expect(fastRecords).toBeGreaterThan(1000);
    });
  }

  it('texts longer than one index block (256 KiB): lines and quoted fields across block and chunk boundaries', () => {
    const r = rng(77);
    for (const [label, dialect] of DIALECTS) {
      const sep = String.fromCharCode(dialect.delimiter);
      const parts: string[] = [];
      let size = 0;
      while (size < 700 * 1024) {
        const t = randomText(r, sep);
        // long plain lines too, so a record straddles a block's end in the middle of its cells
        const long = r() < 0.1 ? `${'y'.repeat(Math.floor(r() * 40000))}${sep}"q${sep}q"${sep}1\n` : '';
        parts.push(t.endsWith('\n') ? t : `${t}\n`, long);
        size += t.length + long.length + 1;
      }
      const file = path.join(dir, `big-${dialect.delimiter}.csv`);
      fs.writeFileSync(file, parts.join(''));
      for (const chunk of [100_000, 1024 * 1024, 8 * 1024 * 1024]) {
        const { fast, generic } = scanBoth(file, { dialect, header: false, keepGoing: true }, chunk);
        expect(fast, `${label}, chunk ${chunk}`).toEqual(generic);
        expect(fast.records.length, label).toBeGreaterThan(1000);
      }
    }
  });

  it('bytes after the end of the range (a reused buffer) are not read as a line end', () => {
    const file = path.join(dir, 'tail.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n3,4');
    const dialect = DIALECTS[0]![1];
    for (const chunk of [3, 4, 9, 1024]) {
      const { fast, generic } = scanBoth(file, { dialect, header: true, keepGoing: true }, chunk);
      expect(fast).toEqual(generic);
      expect((fast.result as { records: number }).records).toBe(2);
    }
  });
});
