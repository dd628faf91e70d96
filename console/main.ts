/**
 * The web console (GET /): upload, catalog and SQL views over the public HTTP API of the same
 * origin, presigned PUTs straight to S3. Views are made once and shown by the URL's hash:
 * #/upload, #/catalog, #/catalog/<name>, #/sql[?q=<sql>].
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { byId, clear } from './dom.js';
import { initToken } from './token.js';
import { uploadView } from './upload.js';
import { loadDatasets, renderCatalog, renderDataset } from './catalog.js';
import { sqlView } from './sql.js';

const main = byId('view');
const upload = uploadView();
const catalog = document.createElement('section');
catalog.className = 'view';
const sql = sqlView();

/** Dataset and column names for the editor's completion. */
function refreshSchema(): void {
  loadDatasets().then(
    (ds) => sql.editor.setSchema(Object.fromEntries(ds.map((m) => [m.name, m.schema.map((c) => c.name)]))),
    () => undefined,
  );
}

function route(): void {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?', 2) as [string, string | undefined];
  const [view, ...rest] = path.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  let active = 'upload';
  if (view === 'catalog') {
    active = 'catalog';
    const name = rest.join('/');
    void (name ? renderDataset(catalog, name) : renderCatalog(catalog));
    clear(main, catalog);
  } else if (view === 'sql') {
    active = 'sql';
    clear(main, sql.el);
    const q = new URLSearchParams(query ?? '').get('q');
    if (q) sql.load(q);
    sql.editor.view.focus();
  } else {
    clear(main, upload);
  }
  document.querySelectorAll<HTMLAnchorElement>('[data-nav]').forEach((a) => {
    if (a.dataset.nav === active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

initToken();
document.addEventListener('lakehouse:catalog-changed', refreshSchema);
window.addEventListener('hashchange', route);
route();
refreshSchema();
