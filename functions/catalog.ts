/** GET /catalog/manifests, GET /catalog/manifests/{name}[?version=N] and DELETE /catalog/manifests/{name} (drop). */
import { httpHandler, pathParam } from '../lib/http/middleware.js';
import { loadCatalog } from '../lib/catalog/store.js';
import { dropDataset, getManifest } from '../lib/catalog/register.js';
import { publicManifest } from '../lib/catalog/manifest.js';

export const handler = httpHandler(async (req) => {
  const name = pathParam(req, 'name');
  if (name !== undefined && req.method === 'DELETE') {
    return { status: 200, json: await dropDataset(name) };
  }
  if (name !== undefined) {
    const m = await getManifest(name, req.query.version);
    return { status: 200, json: publicManifest(m) };
  }
  const r = await loadCatalog();
  return {
    status: 200,
    json: { datasets: r.manifests.map(publicManifest), ...(r.errors.length ? { errors: r.errors } : {}) },
  };
});
