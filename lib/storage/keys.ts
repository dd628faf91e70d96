/**
 * Object keys: validation, and the bucket layout of docs/api.md built in one place.
 * Generated keys only use [A-Za-z0-9_.-/] so that raw (embedded server) and URL-encoded (AWS)
 * event keys agree.
 */
import { badRequest } from '../errors.js';

export const MAX_KEY_BYTES = 1024;

export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'key is empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `key is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.includes('\0')) return 'key contains a NUL byte';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'key contains control characters';
  if (key.startsWith('/')) return 'key starts with /';
  if (key.split('/').some((seg) => seg === '..' || seg === '.')) return 'key contains a . or .. segment';
  return undefined;
}

export function validateKey(key: unknown): string {
  const p = keyProblem(key);
  if (p) throw badRequest('invalid_key', `Invalid object key: ${p}.`);
  return key as string;
}

export const UPLOAD_EXTS = ['csv', 'tsv', 'txt', 'csv.gz', 'tsv.gz', 'txt.gz'] as const;
export type UploadExt = (typeof UPLOAD_EXTS)[number];

/** The top-level prefixes of the bucket: built and parsed here only (docs/api.md, ADR 0002). */
export const PREFIX = {
  uploads: 'uploads/',
  uploadStatus: '_uploads/',
  datasets: 'datasets/',
  catalog: '_catalog/',
  catalogDatasets: '_catalog/datasets/',
  catalogNames: '_catalog/names/',
  snapshots: '_catalog/snapshots/',
  catalogChanges: '_catalog/changes/',
  locks: '_locks/',
  results: 'results/',
  rejects: '_rejects/',
} as const;

const VERSION_SPAN = 999_999_999_999;
const SNAPSHOT_SPAN = 999_999_999_999_999;

export const keys = {
  upload: (name: string, uploadId: string, ext: UploadExt) => `${PREFIX.uploads}${name}/${uploadId}.${ext}`,
  uploadStatus: (uploadId: string) => `${PREFIX.uploadStatus}${uploadId}.json`,
  datasetObject: (name: string, fingerprint: string, uploadId: string) =>
    `${PREFIX.datasets}${name}/${fingerprint.slice(0, 16)}/${uploadId}.parquet`,
  /** An object written by compaction (its id is the compaction's, `c-` marks where it came from). */
  compactedObject: (name: string, fingerprint: string, compactionId: string, part: number) =>
    `${PREFIX.datasets}${name}/${fingerprint.slice(0, 16)}/c-${compactionId}-${part}.parquet`,
  datasetPrefix: (name: string) => `${PREFIX.datasets}${name}/`,
  /** A catalog segment: object entries a version lists instead of holding them inline. */
  catalogSegment: (name: string, id: string) => `${PREFIX.catalogDatasets}${name}/segments/${id}.parquet`,
  result: (queryId: string, ext: string) => `${PREFIX.results}${queryId}.${ext}`,
  rejects: (uploadId: string) => `${PREFIX.rejects}${uploadId}.csv`,
  /** One marker per dataset, written before its first version. */
  nameMarker: (name: string) => `${PREFIX.catalogNames}${name}`,
  versionsPrefix: (name: string) => `${PREFIX.catalogDatasets}${name}/versions/`,
  /** Version v of a dataset: 999999999999 - v, 12 digits, so the newest version lists first. */
  version: (name: string, version: number) =>
    `${keys.versionsPrefix(name)}${String(VERSION_SPAN - version).padStart(12, '0')}.parquet`,
  /** A catalog snapshot taken at `at` (epoch ms), newest first; the suffix makes it unique. */
  snapshot: (at: number, suffix: string) => `${PREFIX.snapshots}${String(SNAPSHOT_SPAN - at).padStart(15, '0')}-${suffix}.parquet`,
  /**
   * A snapshot that reflects every commit whose change marker is older than `watermark` (epoch ms,
   * the store's clock) minus the listing's margin (docs/adr/0012-catalog-listing.md); `w` marks it.
   * Among snapshots of one watermark the one with the most `progress` (the sum of its entries'
   * versions, which only grows as the catalog moves on) lists first; the suffix names the state.
   */
  watermarkedSnapshot: (watermark: number, progress: number, suffix: string) =>
    `${PREFIX.snapshots}${String(SNAPSHOT_SPAN - Math.floor(watermark)).padStart(15, '0')}-w${String(SNAPSHOT_SPAN - Math.min(progress, SNAPSHOT_SPAN)).padStart(15, '0')}${suffix}.parquet`,
  /** A change marker: version `version` of `name` was committed at about `at` (the store's clock); newest first. */
  catalogChange: (at: number, name: string, version: number, suffix: string) =>
    `${PREFIX.catalogChanges}${String(SNAPSHOT_SPAN - Math.floor(at)).padStart(15, '0')}-${suffix}-${version}-${name}`,
  lockPrefix: (scope: string) => `${PREFIX.locks}${scope}/`,
  lockChoosingPrefix: (scope: string) => `${PREFIX.locks}${scope}/c-`,
  lockChoosing: (scope: string, id: string) => `${PREFIX.locks}${scope}/c-${id}`,
  lockTicketPrefix: (scope: string) => `${PREFIX.locks}${scope}/t-`,
  lockTicket: (scope: string, n: number, digits: number, id: string) =>
    `${PREFIX.locks}${scope}/t-${String(n).padStart(digits, '0')}-${id}`,
  conditionalProbe: (id: string) => `${PREFIX.locks}_probe/${id}`,
  /** The Iceberg table of a dataset (docs/adr/0010-iceberg-tables.md): its data is the dataset prefix. */
  icebergTable: (name: string) => `${PREFIX.datasets}${name}`,
  icebergMetadataPrefix: (name: string) => `${PREFIX.datasets}${name}/${ICEBERG_METADATA_DIR}/`,
  /** A file in the table's metadata folder (its name: lib/iceberg/types.ts MetadataFileName). */
  icebergMetadataFile: (name: string, fileName: string) => `${keys.icebergMetadataPrefix(name)}${fileName}`,
  /** An Avro manifest written for catalog version v (the suffix is unique per publish attempt). */
  icebergManifest: (name: string, version: number, suffix: string) => `${keys.icebergMetadataPrefix(name)}${version}-${suffix}-m0.avro`,
  /** An Avro manifest list (Iceberg's `snap-<snapshot id>-…` naming). */
  icebergManifestList: (name: string, snapshotId: number, version: number, suffix: string) =>
    `${keys.icebergMetadataPrefix(name)}snap-${snapshotId}-${version}-${suffix}.avro`,
};

/** The folder of a dataset prefix that holds Iceberg metadata (never data objects). */
const ICEBERG_METADATA_DIR = 'metadata';

/** The file name of a key directly in a table's metadata folder, or undefined. */
export function parseIcebergMetadataFile(name: string, key: string): string | undefined {
  const prefix = keys.icebergMetadataPrefix(name);
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  return rest.length > 0 && !rest.includes('/') ? rest : undefined;
}

/** Is this key Iceberg metadata (`datasets/<name>/metadata/…`) rather than a data object? */
export function isIcebergMetadataKey(key: string): boolean {
  return new RegExp(`^datasets/[^/]+/${ICEBERG_METADATA_DIR}/`).test(key);
}

export const VERSION_MAX = VERSION_SPAN;

/** The version number of a key under the dataset's versions prefix, or undefined. */
export function parseVersionKey(name: string, key: string): number | undefined {
  const prefix = keys.versionsPrefix(name);
  if (!key.startsWith(prefix)) return undefined;
  const m = /^(\d{12})\.parquet$/.exec(key.slice(prefix.length));
  return m ? VERSION_SPAN - Number(m[1]) : undefined;
}

/** The dataset name of a `_catalog/names/<name>` marker, or undefined. */
export function parseNameMarker(key: string): string | undefined {
  if (!key.startsWith(PREFIX.catalogNames)) return undefined;
  const n = key.slice(PREFIX.catalogNames.length);
  return n.length > 0 && !n.includes('/') ? n : undefined;
}

/** The time (epoch ms) a snapshot was taken (a watermarked one: its watermark), from its key, or undefined. */
export function parseSnapshotKey(key: string): number | undefined {
  return parseSnapshotKeyKind(key)?.at;
}

/** A snapshot key's time and whether it is watermarked (usable by the listing), or undefined. */
export function parseSnapshotKeyKind(key: string): { at: number; watermarked: boolean } | undefined {
  if (!key.startsWith(PREFIX.snapshots)) return undefined;
  const m = /^(\d{15})-(w?)[0-9a-f]+\.parquet$/.exec(key.slice(PREFIX.snapshots.length));
  return m ? { at: SNAPSHOT_SPAN - Number(m[1]), watermarked: m[2] === 'w' } : undefined;
}

/** A change marker `_catalog/changes/<time>-<suffix>-<version>-<name>`, or undefined. */
export function parseChangeKey(key: string): { at: number; name: string; version: number } | undefined {
  if (!key.startsWith(PREFIX.catalogChanges)) return undefined;
  const m = /^(\d{15})-[0-9a-f]+-([1-9]\d{0,11})-([a-z0-9_][a-z0-9_.-]{0,127})$/.exec(key.slice(PREFIX.catalogChanges.length));
  return m ? { at: SNAPSHOT_SPAN - Number(m[1]), version: Number(m[2]), name: m[3]! } : undefined;
}

/** The dataset a `datasets/<name>/...` key belongs to, or undefined. */
export function parseDatasetObjectKey(key: string): { name: string } | undefined {
  const m = /^datasets\/([^/]+)\/.+$/.exec(key);
  return m ? { name: m[1]! } : undefined;
}

/** The upload id of a `_uploads/<id>.json` status key, or undefined. */
export function parseUploadStatusKey(key: string): string | undefined {
  const m = /^_uploads\/([^/]+)\.json$/.exec(key);
  return m ? m[1] : undefined;
}

/** A lock object `_locks/<scope>/c-<id>` or `_locks/<scope>/t-<n>-<id>`, or undefined. */
export function parseLockKey(
  scope: string,
  key: string,
): { kind: 'choosing'; id: string } | { kind: 'ticket'; n: number; id: string } | undefined {
  const prefix = keys.lockPrefix(scope);
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const t = /^t-(\d+)-(.+)$/.exec(rest);
  if (t) return { kind: 'ticket', n: Number(t[1]), id: t[2]! };
  const c = /^c-(.+)$/.exec(rest);
  if (c) return { kind: 'choosing', id: c[1]! };
  return undefined;
}

/**
 * Parses `uploads/<name>/<file>`: name (not yet validated), upload id (file name without the
 * upload extension) and the extension. Returns undefined when the key is not under uploads/.
 */
export function parseUploadKey(
  key: string,
): { rawName: string; uploadId: string; ext: string; gzip: boolean; fileName: string } | undefined {
  if (!key.startsWith(PREFIX.uploads)) return undefined;
  const m = /^uploads\/([^/]+)\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  const rawName = m[1]!;
  const fileName = m[2]!;
  const lower = fileName.toLowerCase();
  let ext = '';
  let gzip = false;
  let base = fileName;
  const known = /\.(csv|tsv|txt)(\.gz)?$/i.exec(lower);
  if (known) {
    ext = known[0].slice(1);
    gzip = !!known[2];
    base = fileName.slice(0, fileName.length - known[0].length);
  } else if (lower.endsWith('.gz')) {
    gzip = true;
    ext = 'gz';
    base = fileName.slice(0, -3);
    const dot = base.lastIndexOf('.');
    if (dot > 0) base = base.slice(0, dot);
  } else {
    const dot = fileName.lastIndexOf('.');
    if (dot > 0) {
      ext = fileName.slice(dot + 1);
      base = fileName.slice(0, dot);
    }
  }
  return { rawName, uploadId: base, ext, gzip, fileName };
}
