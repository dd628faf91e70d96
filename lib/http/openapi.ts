/**
 * The API's OpenAPI 3.1 document — `openapi.yaml` at the repository root, the one source of the
 * contract — parsed once, and the lookup of the operation a request was for.
 *
 * Where the text comes from: run as ES modules (vitest, tsx) this file reads openapi.yaml from the
 * checkout; in a Lambda bundle (CommonJS, no `import.meta` — serverless.yml defines
 * `import.meta.url` as undefined there) esbuild has inlined the file through its `.yaml` text
 * loader (custom.esbuild.loader), so the bundle carries the document wherever it runs. Either way
 * `GET /openapi.json` serves exactly the file; there is no generated copy.
 */
import fs from 'node:fs';
import { parse } from 'yaml';

function documentText(): string {
  const url: string | undefined = import.meta.url;
  if (url) return fs.readFileSync(new URL('../../openapi.yaml', url), 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal require is what esbuild inlines (bundles only)
  return require('../../openapi.yaml') as string;
}

export interface OpenApiReference {
  $ref: string;
}

export interface OpenApiMediaType {
  schema?: unknown;
}

export interface OpenApiHeader {
  description?: string;
  required?: boolean;
  schema?: unknown;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, OpenApiHeader | OpenApiReference>;
  content?: Record<string, OpenApiMediaType>;
}

export interface OpenApiOperation {
  operationId?: string;
  responses: Record<string, OpenApiResponse | OpenApiReference>;
  [k: string]: unknown;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [k: string]: unknown };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: Record<string, Record<string, unknown>>;
  /** The response of the catch-all route (any method and path not in `paths`). */
  'x-lakehouse-unmatched-route'?: OpenApiResponse | OpenApiReference;
  [k: string]: unknown;
}

let doc: OpenApiDocument | undefined;

/** The parsed document. Treat it as read-only: it is shared. */
export function openapiDocument(): OpenApiDocument {
  doc ??= parse(documentText()) as OpenApiDocument;
  return doc;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface MatchedOperation {
  /** The path template, e.g. `/uploads/{id}`. */
  template: string;
  method: string;
  operation: OpenApiOperation;
}

/**
 * The operation for a method and a concrete path (`/uploads/0190…` → `/uploads/{id}`), or undefined
 * when the API has no such route (the catch-all answers). A literal template wins over a templated
 * one, as in API Gateway.
 */
export function findOperation(method: string, path: string, d: OpenApiDocument = openapiDocument()): MatchedOperation | undefined {
  const m = method.toLowerCase();
  if (!METHODS.includes(m)) return undefined;
  const segments = path.split('?')[0]!.split('/');
  let best: MatchedOperation | undefined;
  let bestLiterals = -1;
  for (const [template, item] of Object.entries(d.paths)) {
    const operation = item[m];
    if (!operation) continue;
    const parts = template.split('/');
    if (parts.length !== segments.length) continue;
    let literals = 0;
    const ok = parts.every((p, i) => {
      if (/^\{[^}]+\}$/.test(p)) return segments[i]!.length > 0;
      literals++;
      return p === segments[i];
    });
    if (ok && literals > bestLiterals) {
      best = { template, method: m, operation };
      bestLiterals = literals;
    }
  }
  return best;
}
