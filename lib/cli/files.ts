/** `lakehouse upload` inputs: files, directories and globs → files, each with a dataset name. */
import fs from 'node:fs';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

/** The API's rule for dataset names (lib/names.ts), which the API then lower-cases. */
export const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** What a directory walk picks up (a `.gz` is a gzipped CSV/TSV). */
export const UPLOADABLE = /\.(csv|tsv|txt|gz)$/i;

export interface InputFile {
  /** the path as the user will recognise it (relative when under the working directory) */
  file: string;
  size: number;
}

export class InputError extends Error {}

function display(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/** f2 before f10 */
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function walk(dir: string, out: string[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => natural(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .git, .DS_Store, editor files
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (UPLOADABLE.test(e.name) && (e.isFile() || (e.isSymbolicLink() && fs.statSync(p, { throwIfNoEntry: false })?.isFile()))) out.push(p);
  }
}

/**
 * Expands the arguments in order: a file is taken as is (whatever its extension), a directory is
 * walked (recursively, hidden entries skipped) for .csv/.tsv/.txt/.gz files, anything else is a glob
 * (tinyglobby). A path given twice is uploaded once. Throws InputError for an argument that names
 * nothing, a directory without uploadable files, or a glob that matches nothing.
 */
export async function expandInputs(args: string[]): Promise<InputFile[]> {
  const seen = new Set<string>();
  const out: InputFile[] = [];
  const add = (p: string) => {
    const abs = path.resolve(p);
    if (seen.has(abs)) return;
    seen.add(abs);
    const st = fs.statSync(abs);
    out.push({ file: display(abs), size: st.size });
  };
  for (const arg of args) {
    const st = fs.statSync(arg, { throwIfNoEntry: false });
    if (st?.isFile()) {
      add(arg);
    } else if (st?.isDirectory()) {
      const found: string[] = [];
      walk(arg, found);
      if (!found.length) throw new InputError(`no .csv, .tsv, .txt or .gz files in directory ${arg}`);
      found.forEach(add);
    } else if (st) {
      throw new InputError(`not a file or directory: ${arg}`);
    } else if (isDynamicPattern(arg)) {
      const found = (await glob(arg, { onlyFiles: true, absolute: true, dot: false, expandDirectories: false })).sort(natural);
      if (!found.length) throw new InputError(`no files match ${arg}`);
      found.forEach(add);
    } else {
      throw new InputError(`no such file: ${arg}`);
    }
  }
  return out;
}

/** `sales 2026.csv.gz` → `sales 2026`: the compression extension, then the format extension. */
function stem(file: string): string {
  let b = path.basename(file);
  b = b.replace(/\.(gz|gzip)$/i, '');
  b = b.replace(/\.(csv|tsv|txt|tab|dat)$/i, '');
  return b;
}

/**
 * A dataset name made from a file name or a directory name by the API's rules: lower-case, every
 * character outside [a-z0-9_.-] becomes `_`, a leading `.` or `-` becomes `_`, at most 128
 * characters. Undefined when nothing usable is left.
 */
export function deriveName(source: string): string | undefined {
  let n = source.toLowerCase().replace(/[^a-z0-9_.-]/g, '_');
  n = n.replace(/^[.-]/, '_').slice(0, 128);
  return n && NAME_RE.test(n) ? n : undefined;
}

export function nameFor(file: string, from: 'file' | 'dir'): string | undefined {
  return deriveName(from === 'dir' ? path.basename(path.dirname(path.resolve(file))) : stem(file));
}
