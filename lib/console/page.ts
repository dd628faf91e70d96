/**
 * The web console (GET /): one HTML page with its script and style inline, built ahead of time by
 * scripts/build-console.mjs into dist/console/console.json — never at request time. This module
 * hands out the page and its Content-Security-Policy: the script only by the SHA-256 of the exact
 * inline text the build produced, styles by the hash of the inline style plus a fresh nonce per
 * response (CodeMirror adds a <style> element of its own, carrying that nonce), connections only to
 * this origin and to the origin of the bucket's presigned URLs (lib/storage/objects.ts), nothing
 * else from anywhere.
 *
 * Where the page comes from: run as ES modules (vitest, tsx) this file reads the build output from
 * the checkout; in a Lambda bundle (CommonJS, no `import.meta`: serverless.yml defines
 * `import.meta.url` as undefined there) esbuild has inlined the JSON, so the function carries its
 * page wherever it runs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { LakehouseError } from '../errors.js';
import { presignedOrigin } from '../storage/objects.js';

/** What scripts/build-console.mjs writes. */
export interface BuiltConsole {
  html: string;
  /** base64 SHA-256 of the inline script's text, and of the inline style's. */
  script_sha256: string;
  style_sha256: string;
  /** Text in `html` to replace with the response's nonce. */
  nonce_placeholder: string;
}

function load(): BuiltConsole {
  const url: string | undefined = import.meta.url;
  try {
    if (url) return JSON.parse(fs.readFileSync(new URL('../../dist/console/console.json', url), 'utf8')) as BuiltConsole;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal require is what esbuild inlines (bundles only)
    return require('../../dist/console/console.json') as BuiltConsole;
  } catch (e) {
    throw new LakehouseError('internal', `The console is not built (npm run build:console): ${e instanceof Error ? e.message : String(e)}`, undefined, false);
  }
}

let built: BuiltConsole | undefined;

/** The policy: this origin and the bucket's presigned-URL origin only; inline code by hash only. */
export function contentSecurityPolicy(page: Pick<BuiltConsole, 'script_sha256' | 'style_sha256'>, s3Origin: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${page.script_sha256}'`,
    `style-src 'sha256-${page.style_sha256}' 'nonce-${nonce}'`,
    `connect-src 'self' ${s3Origin}`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface ConsolePage {
  html: string;
  csp: string;
}

export async function consolePage(): Promise<ConsolePage> {
  built ??= load();
  const nonce = crypto.randomBytes(18).toString('base64');
  return { html: built.html.split(built.nonce_placeholder).join(nonce), csp: contentSecurityPolicy(built, await presignedOrigin(), nonce) };
}
