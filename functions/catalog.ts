/** GET /catalog/manifests[?limit=&cursor=], GET /catalog/manifests/{name}[?version=N] and DELETE /catalog/manifests/{name} (drop). */
import { httpHandler, pathParam } from '../lib/http/middleware.js';
import { listManifests } from '../lib/catalog/list-page.js';
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
  const page = await listManifests({ limit: req.query.limit, cursor: req.query.cursor });
  return {
    status: 200,
    json: {
      datasets: page.manifests.map(publicManifest),
      ...(page.errors.length ? { errors: page.errors } : {}),
      ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
    },
  };
});
