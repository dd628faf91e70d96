/**
 * Makes an embedded server honour conditional PUTs the way AWS S3 does (412
 * PreconditionFailed when the key exists), so both catalog commit paths can be tested locally.
 * Conditional PUTs to one key are serialised, as S3 does server-side.
 */
import type S3rver from 's3rver';

export type KoaCtx = {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  status: number;
  type: string;
  body: unknown;
};
export type Next = () => Promise<void>;

/**
 * `If-None-Match: *` (412 when the key exists) and, with `ifMatch`, `If-Match: <etag>` (412 unless
 * the object exists with that ETag) on PUT, as AWS S3 does.
 */
export function enforceIfNoneMatch(server: S3rver, opts: { ifMatch?: boolean } = {}): void {
  const store = (server as unknown as {
    store: { existsObject(b: string, k: string): Promise<boolean>; getMetadata(b: string, k: string): Promise<{ etag: string }> };
  }).store;
  const chains = new Map<string, Promise<void>>();
  const mw = async (ctx: KoaCtx, next: Next) => {
    const inm = ctx.headers['if-none-match'];
    const im = opts.ifMatch ? ctx.headers['if-match'] : undefined;
    if (ctx.method !== 'PUT' || (inm !== '*' && im === undefined) || 'uploadId' in ctx.query) return next();
    const parts = ctx.path.split('/').filter(Boolean);
    const bucketName = decodeURIComponent(parts[0] ?? '');
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    const id = `${bucketName}/${key}`;
    const prev = chains.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    chains.set(id, prev.then(() => mine));
    await prev;
    try {
      const exists = await store.existsObject(bucketName, key);
      let ok = !(inm === '*' && exists);
      if (ok && im !== undefined) ok = exists && (await store.getMetadata(bucketName, key)).etag.replace(/"/g, '') === im.replace(/"/g, '');
      if (!ok) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
          `<Condition>${inm === '*' ? 'If-None-Match' : 'If-Match'}</Condition></Error>`;
        return;
      }
      await next();
    } finally {
      release();
      if (chains.get(id) === mine) chains.delete(id);
    }
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(mw);
}

/**
 * `If-None-Match` on GET and HEAD answered from the object's metadata: `304 Not Modified` when the
 * ETag matches (or `*` and the object exists), as AWS S3 does. s3rver answers 304 too, but only
 * after opening the object's content, which it then never closes: one file descriptor leaked per
 * 304 (300 conditional GETs: 300 descriptors), until the server runs out of them. Plain object
 * reads only (a request with another query parameter — ?acl, ?tagging… — goes to s3rver as before).
 */
export function answerNotModified(server: S3rver): void {
  const store = (server as unknown as {
    store: { existsObject(b: string, k: string): Promise<boolean>; getMetadata(b: string, k: string): Promise<{ etag: string }> };
  }).store;
  const mw = async (ctx: KoaCtx & { set(name: string, value: string): void }, next: Next) => {
    const inm = ctx.headers['if-none-match'];
    // the SDK marks the operation in the query (x-id=GetObject): that is still a plain object read
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !inm || Object.keys(ctx.query).some((q) => q !== 'x-id')) return next();
    const parts = ctx.path.split('/').filter(Boolean);
    if (parts.length < 2) return next();
    const bucketName = decodeURIComponent(parts[0]!);
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    if (!(await store.existsObject(bucketName, key).catch(() => false))) return next();
    const etag = (await store.getMetadata(bucketName, key)).etag;
    const bare = (t: string) => t.trim().replace(/^W\//, '').replace(/"/g, '');
    const matches = inm.trim() === '*' || inm.split(',').some((t) => bare(t) === bare(etag));
    if (!matches) return next();
    ctx.status = 304;
    ctx.set('ETag', etag);
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(mw);
}
