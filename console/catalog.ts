/**
 * The catalog: every dataset (rows, columns, objects, version, updated), and a page per dataset
 * with its schema, its objects and its versions (any version's manifest on demand).
 */
import { ApiError, apiJson } from './api.js';
import { bytes, clear, h } from './dom.js';
import type { Manifest } from './types.js';

const fmt = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'));
const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

function errorBox(e: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, e instanceof ApiError ? h('p', {}, h('strong', { class: 'code' }, e.code), ': ', e.message) : h('p', {}, String(e)));
}

/** Every dataset, following the listing's pages (`next_cursor`). */
export async function loadDatasets(): Promise<Manifest[]> {
  const all: Manifest[] = [];
  let cursor: string | undefined;
  do {
    const r = await apiJson<{ datasets: Manifest[]; next_cursor?: string }>(`/catalog/manifests?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...r.datasets);
    cursor = r.next_cursor;
  } while (cursor);
  return all;
}

export async function renderCatalog(into: HTMLElement): Promise<void> {
  clear(into, h('h1', {}, 'Catalog'), h('p', { class: 'muted' }, 'Loading…'));
  try {
    const datasets = (await loadDatasets()).sort((a, b) => a.name.localeCompare(b.name));
    const table = h(
      'table',
      { class: 'catalog' },
      h('caption', {}, `${datasets.length} dataset${datasets.length === 1 ? '' : 's'}`),
      h('thead', {}, h('tr', {}, ...['Dataset', 'Rows', 'Columns', 'Objects', 'Version', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        ...datasets.map((m) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('a', { href: `#/catalog/${encodeURIComponent(m.name)}` }, m.name)),
            h('td', { class: 'num' }, fmt(m.row_count)),
            h('td', { class: 'num' }, m.schema.length),
            h('td', { class: 'num' }, m.objects.length),
            h('td', { class: 'num' }, m.version),
            h('td', {}, when(m.updated_at)),
          ),
        ),
      ),
    );
    clear(into, h('h1', {}, 'Catalog'), datasets.length ? table : h('p', {}, 'No datasets yet. ', h('a', { href: '#/upload' }, 'Upload a CSV file'), '.'));
  } catch (e) {
    clear(into, h('h1', {}, 'Catalog'), errorBox(e));
  }
}

function manifestPath(name: string, version?: number): string {
  return `/catalog/manifests/${encodeURIComponent(name)}${version ? `?version=${version}` : ''}`;
}

export async function renderDataset(into: HTMLElement, name: string): Promise<void> {
  clear(into, h('h1', {}, name), h('p', { class: 'muted' }, 'Loading…'));
  let m: Manifest;
  try {
    m = await apiJson<Manifest>(manifestPath(name));
  } catch (e) {
    clear(into, h('h1', {}, name), errorBox(e));
    return;
  }
  const manifestOut = h('div', { class: 'manifest', 'aria-live': 'polite' });
  const versions = h(
    'ol',
    { class: 'versions', reversed: true },
    ...Array.from({ length: m.version }, (_, i) => m.version - i).map((v) => {
      const b = h('button', { type: 'button', class: 'link', 'data-version': v }, `version ${v}${v === m.version ? ' (current)' : ''}`);
      b.addEventListener('click', () => {
        clear(manifestOut, h('p', { class: 'muted' }, `Loading version ${v}…`));
        apiJson<Manifest>(manifestPath(m.name, v)).then(
          (mv) => clear(manifestOut, h('h3', {}, `Manifest of version ${v}`), h('p', {}, `${fmt(mv.row_count)} rows, ${mv.objects.length} objects, ${mv.schema.length} columns, created ${when(mv.created_at)}`), h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(mv, null, 2))),
          (e: unknown) => clear(manifestOut, errorBox(e)),
        );
      });
      return h('li', {}, b);
    }),
  );
  clear(
    into,
    h('p', {}, h('a', { href: '#/catalog' }, '← Catalog')),
    h('h1', {}, m.name),
    h('p', {}, `${fmt(m.row_count)} rows · version ${m.version} · updated ${when(m.updated_at)} · `, h('a', { href: `#/sql?q=${encodeURIComponent(`SELECT * FROM "${m.name}" LIMIT 100`)}` }, 'Query it')),
    h(
      'table',
      { class: 'schema' },
      h('caption', {}, 'Schema'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Column'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Nullable'))),
      h('tbody', {}, ...m.schema.map((c) => h('tr', {}, h('th', { scope: 'row' }, c.name), h('td', {}, h('code', {}, c.type)), h('td', {}, c.nullable ? 'yes' : 'no')))),
    ),
    h(
      'table',
      { class: 'objects' },
      h('caption', {}, 'Objects'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col' }, 'Rows'))),
      h('tbody', {}, ...m.objects.map((o) => h('tr', {}, h('td', {}, h('code', {}, o.key)), h('td', { class: 'num' }, bytes(o.size)), h('td', { class: 'num' }, fmt(o.row_count))))),
    ),
    h('h2', {}, 'Versions'),
    versions,
    manifestOut,
  );
}
