/**
 * The read-only Iceberg REST catalog under /iceberg/v1/… (lib/iceberg/rest.ts). Bearer auth like
 * every route; errors in the Iceberg REST shape `{"error":{"message","type","code"}}`. HEAD routes
 * answer 204 with no body (serverless-offline serves HEAD through the GET route, so both land here).
 */
import { httpHandler, pathParam } from '../lib/http/middleware.js';
import { catalogConfig, listNamespaces, listTables, loadNamespace, loadTable, parseNamespace, tableExists } from '../lib/iceberg/rest.js';

export const handler = httpHandler(
  async (req) => {
    const head = req.method === 'HEAD';
    const ns = pathParam(req, 'namespace');
    const table = pathParam(req, 'table');
    if (req.path.endsWith('/v1/config')) return { status: 200, json: catalogConfig() };
    if (ns === undefined) return { status: 200, json: listNamespaces(req.query.parent) };
    const namespace = parseNamespace(ns);
    if (table !== undefined) {
      if (head) {
        await tableExists(namespace, table);
        return { status: 204 };
      }
      return { status: 200, json: await loadTable(namespace, table) };
    }
    if (req.path.endsWith('/tables')) return { status: 200, json: await listTables(namespace) };
    const n = loadNamespace(namespace);
    return head ? { status: 204 } : { status: 200, json: n };
  },
  { errors: 'iceberg' },
);
