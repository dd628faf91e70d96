/**
 * CSV hints on POST /uploads (contract v2, docs/api.md): `csv: {delimiter?, quote?, escape?, header?, skip_lines?,
 * encoding?}`. Each given field overrides the matching detection; anything malformed is a
 * `400 invalid_csv_options` naming the field.
 */
import { badRequest } from '../errors.js';
import type { CsvHints } from './dialect.js';

const HINT_ENCODINGS = ['utf-8', 'utf-16', 'windows-1252', 'latin-1'] as const;
const KEYS = ['delimiter', 'quote', 'escape', 'header', 'skip_lines', 'encoding'];

function invalid(message: string): never {
  throw badRequest('invalid_csv_options', message);
}

/** One ASCII character that can separate or quote fields (not a line break, not a letter or digit). */
function oneChar(field: string, v: unknown, allowEmpty: boolean): string {
  if (typeof v !== 'string') invalid(`csv.${field} must be a string of one character.`);
  if (v === '' && allowEmpty) return v;
  if (v.length !== 1 || v.charCodeAt(0) > 126 || (v.charCodeAt(0) < 32 && v !== '\t')) {
    invalid(`csv.${field} must be one ASCII character (or "\\t" for tab)${allowEmpty ? ', or "" for none' : ''}.`);
  }
  if (/[A-Za-z0-9\s]/.test(v) && v !== '\t' && v !== ' ') invalid(`csv.${field} cannot be a letter, a digit or a line break.`);
  return v;
}

export function parseCsvHints(v: unknown): CsvHints | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) invalid('csv must be an object, e.g. {"delimiter": ";", "header": false}.');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length) invalid(`csv has unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${KEYS.join(', ')}.`);
  const h: CsvHints = {};
  if (o.delimiter !== undefined) h.delimiter = oneChar('delimiter', o.delimiter, false);
  if (o.quote !== undefined) h.quote = oneChar('quote', o.quote, true);
  if (o.escape !== undefined) h.escape = oneChar('escape', o.escape, false);
  if (o.header !== undefined) {
    if (typeof o.header !== 'boolean') invalid('csv.header must be true or false.');
    h.header = o.header;
  }
  if (o.skip_lines !== undefined) {
    if (typeof o.skip_lines !== 'number' || !Number.isInteger(o.skip_lines) || o.skip_lines < 0 || o.skip_lines > 1000) {
      invalid('csv.skip_lines must be an integer from 0 to 1000.');
    }
    h.skip_lines = o.skip_lines;
  }
  if (o.encoding !== undefined) {
    const e = typeof o.encoding === 'string' ? o.encoding.toLowerCase() : '';
    if (!(HINT_ENCODINGS as readonly string[]).includes(e)) invalid(`csv.encoding must be one of ${HINT_ENCODINGS.join(', ')}.`);
    h.encoding = e;
  }
  if (h.delimiter !== undefined && (h.delimiter === h.quote || h.delimiter === h.escape)) {
    invalid('csv.delimiter must differ from csv.quote and csv.escape.');
  }
  if (h.escape !== undefined && h.quote === '') invalid('csv.escape needs a quote character (csv.quote is "").');
  return Object.keys(h).length ? h : undefined;
}
