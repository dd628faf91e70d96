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

export const keys = {
  upload: (name: string, uploadId: string, ext: UploadExt) => `uploads/${name}/${uploadId}.${ext}`,
  uploadStatus: (uploadId: string) => `_uploads/${uploadId}.json`,
  datasetObject: (name: string, fingerprint: string, uploadId: string) =>
    `datasets/${name}/${fingerprint.slice(0, 16)}/${uploadId}.parquet`,
  datasetPrefix: (name: string) => `datasets/${name}/`,
  result: (queryId: string, ext: string) => `results/${queryId}.${ext}`,
  rejects: (uploadId: string) => `_rejects/${uploadId}.csv`,
};

/**
 * Parses `uploads/<name>/<file>`: name (not yet validated), upload id (file name without the
 * upload extension) and the extension. Returns undefined when the key is not under uploads/.
 */
export function parseUploadKey(
  key: string,
): { rawName: string; uploadId: string; ext: string; gzip: boolean; fileName: string } | undefined {
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
