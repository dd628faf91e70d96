/**
 * The read-only Iceberg REST catalog (docs/api.md "Iceberg REST catalog"): one namespace,
 * `lakehouse`, holding one table per dataset whose schema has an Iceberg form. Everything is read
 * from our catalog (the dataset's head) and the metadata files beside the data; nothing here writes.
 */
import { LakehouseError } from '../errors.js';
import { config } from '../config.js';
import { normalizeName } from '../names.js';
import { bucket, endpoint } from '../storage/client.js';
import { getJson } from '../storage/objects.js';
import { keys, PREFIX } from '../storage/keys.js';
import { loadCatalog, readHead } from '../catalog/store.js';
import { latestPublished, metadataKey, s3Uri, tableLocation, unpublishable } from './publish.js';
import { vendCredentials, type StorageCredential } from './credentials.js';
import { MetadataFileName, type TableMetadata } from './types.js';

export const NAMESPACE = 'lakehouse';

/** The routes this catalog implements, in the spec's notation (GET /v1/config's `endpoints`). */
export const ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
];

const noSuchNamespace = (ns: string[]) =>
  new LakehouseError('no_such_namespace', `Namespace does not exist: ${ns.join('.')} (the only namespace is "${NAMESPACE}").`);
const noSuchTable = (name: string, why = 'it does not exist') =>
  new LakehouseError('no_such_table', `Table does not exist: ${NAMESPACE}.${name} (${why}).`);

export function catalogConfig() {
  return { defaults: {}, overrides: {}, endpoints: ENDPOINTS };
}

/** A namespace path segment, already percent-decoded: levels separated by 0x1F. */
export function parseNamespace(decoded: string): string[] {
  return decoded.split('\x1f');
}

function requireNamespace(ns: string[]): void {
  if (ns.length !== 1 || ns[0] !== NAMESPACE) throw noSuchNamespace(ns);
}

export function listNamespaces(parent: string | undefined) {
  if (parent === undefined || parent === '') return { namespaces: [[NAMESPACE]] };
  requireNamespace(parseNamespace(parent));
  return { namespaces: [] };
}

export function loadNamespace(ns: string[]) {
  requireNamespace(ns);
  return { namespace: [NAMESPACE], properties: { location: s3Uri(PREFIX.datasets) } };
}

export async function listTables(ns: string[]) {
  requireNamespace(ns);
  const r = await loadCatalog();
  // a dropped dataset is not in the catalog's listing (readHead reads its tombstone as none)
  const names = r.manifests.filter((m) => !unpublishable(m)).map((m) => m.name);
  return { identifiers: names.map((name) => ({ namespace: [NAMESPACE], name })) };
}

export interface LoadTableResult {
  'metadata-location': string;
  metadata: TableMetadata;
  config: Record<string, string>;
  'storage-credentials'?: StorageCredential[];
}

function tableName(raw: string): string {
  try {
    return normalizeName(raw);
  } catch {
    throw noSuchTable(raw.slice(0, 200), 'not a dataset name');
  }
}

/** The newest published metadata of a table (the head's, else the newest earlier one). */
async function currentMetadata(name: string): Promise<{ location: string; metadata: TableMetadata }> {
  const head = await readHead(name); // undefined after a drop: the table is gone with it
  if (!head) throw noSuchTable(name);
  // never an older version served as if current when the head has no Iceberg form
  const reason = unpublishable(head);
  if (reason) throw noSuchTable(name, `published without Iceberg metadata: ${reason}`);
  let file: MetadataFileName | undefined = MetadataFileName.of(head.version);
  let metadata = await getJson<TableMetadata>(metadataKey(name, file));
  if (!metadata) {
    // the head's publish failed or is in flight: serve the newest complete earlier version
    file = await latestPublished(name, head.version);
    metadata = file ? await getJson<TableMetadata>(metadataKey(name, file)) : undefined;
    // never the metadata of a dataset dropped before this one was created under the same name
    if (metadata && metadata['table-uuid'] !== head.dataset_id) metadata = undefined;
  }
  if (!metadata || !file) throw noSuchTable(name, 'its Iceberg metadata is not published yet');
  return { location: s3Uri(metadataKey(name, file)), metadata };
}

/** Client configuration for reading the table's files (the S3 endpoint when it is not AWS). */
function fileIoConfig(): Record<string, string> {
  const c = config();
  const ep = endpoint().url;
  return { 'client.region': c.region, ...(ep ? { 's3.endpoint': ep, 's3.path-style-access': 'true' } : {}) };
}

export async function loadTable(ns: string[], rawName: string): Promise<LoadTableResult> {
  requireNamespace(ns);
  const name = tableName(rawName);
  const { location, metadata } = await currentMetadata(name);
  const credential = await vendCredentials(bucket(), keys.datasetPrefix(name));
  return {
    'metadata-location': location,
    metadata,
    config: fileIoConfig(),
    ...(credential ? { 'storage-credentials': [credential] } : {}),
  };
}

/** HEAD …/tables/{table}: throws no_such_table unless loadTable would succeed. */
export async function tableExists(ns: string[], rawName: string): Promise<void> {
  requireNamespace(ns);
  await currentMetadata(tableName(rawName));
}

export { tableLocation };
