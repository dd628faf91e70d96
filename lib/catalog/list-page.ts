/**
 * GET /catalog/manifests pages: datasets in name order, `limit` at a time, continued with an opaque
 * cursor (base64url of the last name returned). The state is re-read for every page (listing.ts),
 * so a page is current; a dataset created or dropped meanwhile appears or disappears on the pages
 * not yet read, never twice on one walk, and the names already returned are not revisited.
 */
import { badRequest } from '../errors.js';
import { isValidName } from '../names.js';
import { catalogIndex } from './listing.js';
import type { StoredManifest } from './manifest.js';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

export interface ManifestPage {
  manifests: StoredManifest[];
  errors: Array<{ name: string; code: string; message: string }>;
  /** Present when more datasets follow. */
  nextCursor?: string;
}

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_LIMIT;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_LIMIT)) {
    throw badRequest('invalid_limit', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}.`, { limit: raw.slice(0, 50) });
  }
  return n;
}

const CURSOR_PREFIX = 'n1:';

export function encodeCursor(lastName: string): string {
  return Buffer.from(CURSOR_PREFIX + lastName, 'utf8').toString('base64url');
}

/** The last name of the previous page; `invalid_cursor` for anything this API did not hand out. */
export function parseCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const text = /^[A-Za-z0-9_-]{1,400}$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const name = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!isValidName(name) || name !== name.toLowerCase() || encodeCursor(name) !== raw) {
    throw badRequest('invalid_cursor', 'cursor is not one this API returned; start again without it.');
  }
  return name;
}

/** The index of the first name greater than `after` in sorted `names` (binary search). */
function firstAfter(names: string[], after: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (names[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One page of the listing: the datasets after the cursor's name, and the errors among them. */
export async function listManifests(query: { limit?: string; cursor?: string }): Promise<ManifestPage> {
  const limit = parseLimit(query.limit);
  const after = parseCursor(query.cursor);
  const state = await catalogIndex();
  const rest = after === undefined ? state.names : state.names.slice(firstAfter(state.names, after));
  const manifests = await state.manifests(rest.slice(0, limit));
  const more = rest.length > limit;
  const last = more ? rest[limit - 1]! : undefined;
  const errors = state.errors.filter((e) => (after === undefined || e.name > after) && (last === undefined || e.name <= last));
  return { manifests, errors, ...(more ? { nextCursor: encodeCursor(last!) } : {}) };
}
