/**
 * Every response a test receives is held to openapi.yaml: status declared for the operation,
 * content type declared, declared headers present and well-formed, JSON body valid against its
 * schema (ajv, JSON Schema 2020-12 — lib/http/response-check.ts, the same check the server makes
 * with LAKEHOUSE_VALIDATE_RESPONSES=1). A mismatch throws, naming the operation and the problems.
 */
import { checkResponse, type ResponseSample } from '../../lib/http/response-check.js';

export class OpenApiMismatch extends Error {
  override name = 'OpenApiMismatch';
}

export function assertMatchesOpenApi(sample: ResponseSample): void {
  const r = checkResponse(sample);
  if (r.problems.length === 0) return;
  const text = typeof sample.body === 'string' ? sample.body : sample.body.toString('utf8');
  const printable = !text.includes('\u0000'); // an Arrow stream is not worth printing
  throw new OpenApiMismatch(
    `response does not match openapi.yaml — ${r.where}\n` +
      r.problems.map((p) => `  - ${p}\n`).join('') +
      `  content-type: ${sample.headers['content-type'] ?? '(none)'}\n` +
      `  body: ${printable ? text.slice(0, 600) : `<${text.length} bytes>`}`,
  );
}

/** fetch() for the API of a running stack, with the response checked (the body stays readable). */
export async function apiFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.clone().arrayBuffer());
  assertMatchesOpenApi({
    method: init.method ?? 'GET',
    path: new URL(url).pathname,
    status: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body,
  });
  return res;
}
