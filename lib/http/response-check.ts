/**
 * Checks an HTTP response against the OpenAPI document (lib/http/openapi.ts): the status must be
 * declared for the operation (or, for a route the API does not have, be the catch-all's 404), the
 * content type must be one the response declares, the declared required headers must be there
 * and parse, and a JSON body must match its schema (JSON Schema 2020-12, the dialect of OpenAPI
 * 3.1, checked with ajv). Used by the tests on every response they receive and, with
 * LAKEHOUSE_VALIDATE_RESPONSES=1, by the server itself (lib/http/validate-responses.ts).
 */
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  findOperation,
  openapiDocument,
  type OpenApiDocument,
  type OpenApiHeader,
  type OpenApiReference,
  type OpenApiResponse,
} from './openapi.js';

const addFormats = addFormatsModule.default;

export interface ResponseSample {
  method: string;
  /** The concrete request path (`/uploads/0190…`), without the query string. */
  path: string;
  status: number;
  /** Response headers (any case). */
  headers: Record<string, string | undefined>;
  /** The body as sent: text, or bytes (a base64 body already decoded). */
  body: string | Buffer;
}

export interface CheckResult {
  /** `POST /uploads → 201`, `unmatched route → 404`… */
  where: string;
  problems: string[];
}

const COMPONENTS_ID = 'https://lakehouse.invalid/openapi/components.json';

interface Compiled {
  doc: OpenApiDocument;
  ajv: Ajv2020;
  cache: Map<unknown, ValidateFunction>;
}

let compiled: Compiled | undefined;

/** A deep copy with `#/components/schemas/X` pointing into the components schema registered with ajv. */
function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/') ? `${COMPONENTS_ID}#/$defs/${x.slice('#/components/schemas/'.length)}` : rewriteRefs(x);
    }
    return out;
  }
  return v;
}

function setup(): Compiled {
  const doc = openapiDocument();
  if (compiled?.doc === doc) return compiled;
  // strict, so that a typo in a schema keyword is an error rather than a silently ignored word;
  // types may be implied by a $ref next to the keywords that narrow it (OpenAPI 3.1 allows that)
  const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
  addFormats(ajv);
  // OpenAPI's own Schema Object keywords (annotations for validation)
  ajv.addVocabulary(['discriminator', 'xml', 'externalDocs', 'example']);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(doc.components?.schemas ?? {}) });
  compiled = { doc, ajv, cache: new Map() };
  return compiled;
}

/** Follows a local `$ref` (`#/components/responses/NotFound`) to the object it names. */
function deref<T>(doc: OpenApiDocument, v: T | OpenApiReference): T {
  let cur: unknown = v;
  for (let hops = 0; cur && typeof cur === 'object' && '$ref' in cur; hops++) {
    const ref = (cur as OpenApiReference).$ref;
    if (!ref.startsWith('#/') || hops > 10) throw new Error(`openapi.yaml: unsupported $ref ${ref}`);
    cur = ref
      .slice(2)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc);
    if (cur === undefined) throw new Error(`openapi.yaml: $ref ${ref} points nowhere`);
  }
  return cur as T;
}

function validator(c: Compiled, schema: unknown): ValidateFunction {
  let v = c.cache.get(schema);
  if (!v) {
    v = c.ajv.compile(rewriteRefs(schema) as object);
    c.cache.set(schema, v);
  }
  return v;
}

function describe(errors: ErrorObject[] | null | undefined, what: string): string[] {
  return (errors ?? []).slice(0, 8).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)})` : e.keyword === 'enum' || e.keyword === 'const' ? ` (${JSON.stringify(e.params)})` : '';
    return `${what}${e.instancePath || ''} ${e.message ?? e.keyword}${extra}`;
  });
}

function isJson(media: string): boolean {
  return media === 'application/json' || media.endsWith('+json');
}

function isText(media: string): boolean {
  return media.startsWith('text/') || media === 'application/x-ndjson';
}

/** A header's text as the value its schema describes (integers and booleans are sent as text). */
function headerValue(raw: string, schema: unknown): unknown {
  const type = (schema as { type?: unknown } | undefined)?.type;
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

/** Everything about the response that does not match the document; empty when it matches. */
export function checkResponse(r: ResponseSample): CheckResult {
  const c = setup();
  const doc = c.doc;
  const path = r.path.split('?')[0]!;
  const op = findOperation(r.method, path, doc);
  const problems: string[] = [];
  let where: string;
  let declared: OpenApiResponse | OpenApiReference | undefined;
  if (op) {
    where = `${r.method.toUpperCase()} ${op.template} → ${r.status}`;
    const responses = op.operation.responses;
    declared = responses[String(r.status)] ?? responses[`${String(r.status)[0]}XX`] ?? responses.default;
    if (!declared) {
      problems.push(`status ${r.status} is not declared (declared: ${Object.keys(responses).join(', ')})`);
      return { where, problems };
    }
  } else {
    where = `unmatched route ${r.method.toUpperCase()} ${path} → ${r.status}`;
    declared = doc['x-lakehouse-unmatched-route'];
    if (!declared) throw new Error('openapi.yaml: no x-lakehouse-unmatched-route');
    if (r.status !== 404) {
      problems.push(`no operation ${r.method.toUpperCase()} ${path} in the document, and the status is not the catch-all's 404`);
      return { where, problems };
    }
  }
  const response = deref<OpenApiResponse>(doc, declared);
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));

  // content type
  const contentType = headers['content-type'];
  const content = response.content ?? {};
  const media = contentType?.split(';')[0]!.trim().toLowerCase();
  const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === media);
  if (Object.keys(content).length === 0) {
    if (r.body.length > 0) problems.push(`a body was sent but the response declares none`);
  } else if (!media) {
    problems.push(`no content-type (declared: ${Object.keys(content).join(', ')})`);
  } else if (!mediaKey) {
    problems.push(`content-type ${contentType} is not declared (declared: ${Object.keys(content).join(', ')})`);
  }

  // declared headers
  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const header = deref<OpenApiHeader>(doc, h);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) problems.push(`header ${name} is required but missing`);
      continue;
    }
    if (header.schema !== undefined) {
      const v = validator(c, header.schema);
      if (!v(headerValue(value, header.schema))) problems.push(...describe(v.errors, `header ${name}`));
    }
  }

  // body
  if (mediaKey) {
    const schema = content[mediaKey]!.schema;
    const text = typeof r.body === 'string' ? r.body : r.body.toString('utf8');
    if (isJson(mediaKey)) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        problems.push(`the body is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
        return { where, problems };
      }
      if (schema !== undefined) {
        const v = validator(c, schema);
        if (!v(value)) problems.push(...describe(v.errors, 'body'));
      }
    } else if (isText(mediaKey) && schema !== undefined) {
      const v = validator(c, schema);
      if (!v(text)) problems.push(...describe(v.errors, 'body'));
    }
  }
  return { where, problems };
}

/**
 * The document's own consistency, as this checker needs it: every response and header `$ref`
 * resolves, and every schema compiles under ajv's strict mode (an unknown keyword — a typo — is an
 * error). Empty when the document is usable.
 */
export function checkDocument(): string[] {
  const problems: string[] = [];
  const c = setup();
  const doc = c.doc;
  const tryIt = (where: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      problems.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  for (const name of Object.keys(doc.components?.schemas ?? {})) {
    tryIt(`components.schemas.${name}`, () => validator(c, { $ref: `#/components/schemas/${name}` }));
  }
  const responses: Array<[string, OpenApiResponse | OpenApiReference | undefined]> = [['x-lakehouse-unmatched-route', doc['x-lakehouse-unmatched-route']]];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, r] of Object.entries(op.responses ?? {})) responses.push([`${method.toUpperCase()} ${template} ${status}`, r]);
    }
  }
  for (const [where, r] of responses) {
    if (!r) {
      problems.push(`${where}: missing`);
      continue;
    }
    tryIt(where, () => {
      const response = deref<OpenApiResponse>(doc, r);
      for (const [h, header] of Object.entries(response.headers ?? {})) {
        const schema = deref<OpenApiHeader>(doc, header).schema;
        if (schema !== undefined) tryIt(`${where} header ${h}`, () => validator(c, schema));
      }
      for (const [media, m] of Object.entries(response.content ?? {})) {
        if (m.schema !== undefined) tryIt(`${where} ${media}`, () => validator(c, m.schema));
      }
    });
  }
  return problems;
}
