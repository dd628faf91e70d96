/**
 * The console's only way to the HTTP API: same origin, relative paths, the bearer token when one is
 * kept (token.ts). A 401 brings the token prompt and the request is sent again with the new token.
 */
import { askToken, currentToken, forgetToken } from './token.js';

export interface ApiErrorBody {
  code: string;
  message: string;
  [k: string]: unknown;
}

/** An API error envelope (docs/api.md "Errors"), or a network failure (`code` network_error). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.code = body.code;
    this.status = status;
    this.body = body;
  }
}

export interface ApiInit {
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

export async function apiFetch(path: string, init: ApiInit = {}): Promise<Response> {
  for (;;) {
    const token = currentToken();
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
    } catch (e) {
      throw new ApiError(0, { code: 'network_error', message: `The API did not answer: ${e instanceof Error ? e.message : String(e)}` });
    }
    if (res.status !== 401) return res;
    if (token) forgetToken();
    try {
      await askToken(token !== undefined);
    } catch {
      throw await errorOf(res);
    }
  }
}

export async function errorOf(res: Response): Promise<ApiError> {
  let body: ApiErrorBody = { code: `http_${res.status}`, message: res.statusText || `HTTP ${res.status}` };
  try {
    const j = (await res.json()) as { error?: ApiErrorBody };
    if (j?.error?.code) body = j.error;
  } catch {
    /* not the envelope */
  }
  return new ApiError(res.status, body);
}

/** A JSON request whose non-2xx answer is thrown as an ApiError. */
export async function apiJson<T>(path: string, init: ApiInit = {}): Promise<T> {
  const res = await apiFetch(path, init);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}
