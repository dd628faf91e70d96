/**
 * The detection rules of ADR 0006, one by one, on small texts (pure functions: no S3, no DuckDB).
 */
import { describe, it, expect } from 'vitest';
import { detect } from '../lib/ingest/detect.js';
import { combineHeaderRows } from '../lib/ingest/scan.js';

const d = (text: string) => detect(Buffer.from(text, 'utf8'), true);
const delim = (text: string) => String.fromCharCode(d(text).dialect.delimiter);
const names = (text: string) => {
  const r = d(text);
  return r.header && r.headerCells ? combineHeaderRows(r.headerCells) : null;
};
const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

describe('delimiter priors', () => {
  it('a common delimiter that gives a consistent table beats a rare one that gives more columns', () => {
    expect(delim('time,count\n' + rows(50, (i) => `2015/01/01 ${String(i % 24).padStart(2, '0')}:00:00,${i}`))).toBe(',');
    expect(delim('a;b\n' + rows(30, (i) => `12:${String(i).padStart(2, '0')};x`))).toBe(';');
  });
  it('a rare delimiter wins when no common one gives a table', () => {
    expect(delim('a:b:c\n' + rows(30, (i) => `${i}:x${i}:y`))).toBe(':');
    expect(delim(rows(30, (i) => `${i}.5 ${i}.25`))).toBe(' ');
  });
  it('a space must split every record alike (prose does not)', () => {
    const r = d('name\n' + rows(30, (i) => `Jo Smith${i}`));
    expect(r.fields).toBe(1);
  });
  it('";" with decimal commas is not read as ","', () => {
    expect(delim('Ort;Wert;Anteil\n' + rows(30, (i) => `Zürich ${i};${i},5;0,${i}`))).toBe(';');
  });
  it('reports the runner-up when it is close', () => {
    const r = d('a,b;c\n' + rows(20, (i) => `${i},${i};${i}`));
    expect(r.confidence.runner_up).toBeDefined();
  });
});

describe('header unless the first row is clearly data', () => {
  it('a year over decimals, a word over numbers: header', () => {
    expect(names('state,2022\nAlabama,-29.17974\nAlaska,12.50001\nArizona,-3.25010\n')).toEqual(['state', '2022']);
    expect(d('id,v\n1,2\n3,4\n').confidence.header).toBe('detected');
  });
  it('a first row with the types and shapes of the data: no header', () => {
    const r = d(rows(20, (i) => `${i + 1},${(i * 1.25).toFixed(2)},2020-01-${String(i + 1).padStart(2, '0')}`));
    expect(r.header).toBe(false);
    expect(r.confidence.header).toBe('absent');
  });
  it('all text: a header is assumed, and said to be assumed', () => {
    const r = d('red,apple\ngreen,pear\n');
    expect(r.header).toBe(true);
    expect(r.confidence.header).toBe('assumed');
  });
  it('codes: a first row shaped like the codes below it is data', () => {
    expect(d(rows(10, (i) => `A${String.fromCharCode(65 + i)}\tCountry ${i}`)).header).toBe(false);
  });
  it('a line of counts and labels before headerless data is skipped', () => {
    const r = d('150,4,setosa,versicolor\n' + rows(20, (i) => `5.${i % 10},3.${i % 7},1.${i % 5},${i % 3}`));
    expect(r.header).toBe(false);
    expect(r.preambleLines).toBe(1);
  });
  it('a second header row (units) is joined; a data row with N/A is not', () => {
    expect(names('name,height,weight\n,cm,kg\n' + rows(10, (i) => `p${i},${170 + i},${60 + i}`))).toEqual(['name', 'height cm', 'weight kg']);
    expect(d('id,value\n1,N/A\n' + rows(10, (i) => `${i + 2},${i * 3}`)).headerRows).toBe(1);
  });
  it('a header with a blank first name and one name fewer (R) names the last columns', () => {
    const r = d(',a,b\n' + rows(10, (i) => `${i},x${i},${i * 2},${i * 3}`));
    expect(r.header).toBe(true);
    expect(r.headerFields).toBe(3);
    expect(r.headerAlign).toBe('end');
  });
});

describe('around the table', () => {
  it('a title padded with delimiters, notes with another field count: preamble', () => {
    const r = d('Report 2024,,,\nSource: somewhere\nid,a,b,c\n' + rows(10, (i) => `${i},${i},${i},${i}`));
    expect(r.preambleLines).toBe(2);
    expect(names('Report 2024,,,\nid,a,b,c\n' + rows(10, (i) => `${i},${i},${i},${i}`))).toEqual(['id', 'a', 'b', 'c']);
  });
  it('a block ended by a blank line is a preamble, even with a line as wide as the table', () => {
    const r = d('Title\nSubtitle, with a comma\n\nx,y\n' + rows(10, (i) => `${i},${i}`));
    expect(r.preambleLines).toBe(3);
    expect(r.headerCells).toEqual([['x', 'y']]);
  });
  it('a line as wide as the table with values is never skipped', () => {
    const r = d('a,b,c\n1,2,3\n' + rows(10, (i) => `${i},${i},${i}`));
    expect(r.preambleLines).toBe(0);
  });
  it('footer notes after the table; a totals row stays data', () => {
    const text = 'k,v,w\n' + rows(10, (i) => `r${i},${i},${i}`) + 'Total,45,45\n\nSource: a survey, 2024\nNote: provisional\n';
    const r = d(text);
    expect(r.footerLines).toBe(2);
    expect(text.slice(r.footerStart)).toBe('\nSource: a survey, 2024\nNote: provisional\n');
  });
  it('"#" lines are comments when most of them do not have the table\'s shape', () => {
    const r = d('# format: a; b\n# written by x\n# more\na;b\n' + rows(10, (i) => `${i};${i}`));
    expect(r.dialect.comment).toBe(35);
    expect(r.headerCells).toEqual([['a', 'b']]);
  });
});

describe('values keep their bytes', () => {
  it('a trailing space in some values: no trimming', () => {
    expect(d('a,b\nx ,1\ny,2\nz ,3\n').dialect.trim).toBe(false);
  });
  it('padding around every delimiter, or outside quotes: trimming', () => {
    expect(d('a | b\n1 | 2\n3 | 4\n').dialect.trim).toBe(true);
    expect(d('"a" , "b"\n"x" , "y "\n"z" , "w"\n').dialect.trim).toBe(true);
  });
});

describe('hints override detection', () => {
  it('delimiter, quote, header', () => {
    const text = "a|'b|c'\n1|'2|3'\n";
    const r = detect(Buffer.from(text), true, undefined, { delimiter: '|', quote: "'", header: false });
    expect(r.dialect).toMatchObject({ delimiter: 124, quote: 39 });
    expect(r.header).toBe(false);
    expect(r.confidence.from_hints).toEqual(['delimiter', 'quote', 'header']);
  });
});
