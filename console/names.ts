/**
 * Dataset names as the API takes them (lib/names.ts, the same pattern) and as the CLI derives them
 * from a file name (`Sales 2026.csv.gz` → `sales_2026`, docs/api.md "Names").
 */
import { NAME_RE } from '../lib/names.js';

export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.(gz|gzip)$/i, '').replace(/\.(csv|tsv|txt|tab|dat)$/i, '');
  const n = stem
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, '_')
    .replace(/^[.-]/, '_')
    .slice(0, 128);
  return NAME_RE.test(n) ? n : '';
}

/** Why the API would refuse the name (400 invalid_name), or undefined when it is fine. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'A dataset name is needed.';
  if (name.length > 128) return 'At most 128 characters.';
  if (!NAME_RE.test(name)) return 'Letters, digits and _ . - only, not starting with . or -.';
  return undefined;
}
