/**
 * Records every request an embedded server receives (method and key), before anything else sees
 * it: how tests count what reached the store (one download, one snapshot write) rather than what a
 * client meant to send.
 */
import type S3rver from 's3rver';

export interface ObservedRequest {
  method: string;
  bucket: string;
  key: string;
}

export function observeRequests(server: S3rver): ObservedRequest[] {
  const seen: ObservedRequest[] = [];
  const mw = async (ctx: { method: string; path: string }, next: () => Promise<void>) => {
    const parts = ctx.path.split('/').filter(Boolean);
    seen.push({ method: ctx.method, bucket: decodeURIComponent(parts[0] ?? ''), key: parts.slice(1).map(decodeURIComponent).join('/') });
    await next();
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(mw);
  return seen;
}
