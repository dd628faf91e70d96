// Independent check of truth.json with csv-parse (not the project's own code).
// Usage (from the repo root, after npm install): node test/corpus/real/check-truth.mjs
// CSV_PARSE=/path/to/node_modules/csv-parse/lib/sync.js may point at another copy.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { parse } = await import(process.env.CSV_PARSE ? pathToFileURL(process.env.CSV_PARSE).href : 'csv-parse/sync');
const truth = JSON.parse(readFileSync(join(here, 'truth.json'), 'utf8'));

// Byte offsets of the starts of physical lines (\r\n, \n or \r end a line).
function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' && text[i + 1] === '\n') i++;
    if (c === '\n' || c === '\r') starts.push(i + 1);
  }
  if (starts[starts.length - 1] === text.length) starts.pop(); // final newline ends the last line
  return starts;
}

let ok = 0, bad = 0;
for (const t of truth) {
  try {
    const bytes = readFileSync(join(here, t.file));
    const text = new TextDecoder(t.encoding, { fatal: t.encoding === 'utf-8' }).decode(bytes); // drops a UTF-8 BOM
    const starts = lineStarts(text);
    const first = t.skip_lines, last = starts.length - t.footer_lines; // table = physical lines [first, last)
    if (last <= first) throw new Error('no table lines left');
    const body = text.slice(starts[first], last < starts.length ? starts[last] : text.length);
    const opts = {
      delimiter: t.delimiter,
      quote: t.quote === '' ? false : t.quote,
      escape: t.escape === '' ? null : t.escape,
      relax_column_count: !!t.ragged || t.header_align === 'end',
      relax_quotes: false,
      skip_empty_lines: false,
      trim: !!t.trim, ltrim: false, rtrim: false,
      bom: true,
    };
    if (t.comment) { opts.comment = t.comment; opts.comment_no_infix = true; }
    const recs = parse(body, opts);
    const hdr = t.header ? recs.slice(0, t.header_lines) : [];
    // a header with fewer names (header_align "end") is not a ragged row
    const widths = new Set((t.header_align === 'end' ? recs.slice(hdr.length) : recs).map((r) => r.length));
    const rows = recs.length - hdr.length;
    const fields = recs[hdr.length].length;
    let problem = '';
    if (!t.ragged && widths.size !== 1) problem = `widths ${[...widths]}`;
    if (t.header && hdr[0].every((h) => h === '')) problem = 'empty header';
    if (rows < 1) problem = 'no data rows';
    const width = t.ragged ? `${Math.min(...widths)}-${Math.max(...widths)} (ragged)` : String(fields);
    const head = t.header ? ` header=${JSON.stringify(hdr[0].slice(0, 4))}${hdr[0].length > 4 ? '…' : ''}` : ' (no header)';
    if (problem) { bad++; console.log(`FAIL ${t.file}: ${problem}`); }
    else { ok++; console.log(`ok   ${t.file}: fields=${width} rows=${rows}${head}`); }
  } catch (e) {
    bad++; console.log(`FAIL ${t.file}: ${e.message.split('\n')[0]}`);
  }
}
console.log(`${ok} passed, ${bad} failed (${truth.length} files, ${new Set(truth.map((t) => t.publisher)).size} publishers, ${truth.filter((t) => t.messy).length} messy)`);
process.exitCode = bad ? 1 : 0;
