/**
 * The slice of an API Gateway HTTP API (payload v2) event and response that the HTTP plumbing
 * needs, typed structurally so lib/ does not depend on Lambda type packages.
 */
export interface HttpEvent {
  version?: string;
  rawPath?: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  pathParameters?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: { requestId?: string; domainName?: string; http?: { method?: string; path?: string; sourceIp?: string } };
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  params: Record<string, string>;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  requestId: string;
  /** The API's domain name as API Gateway saw it (requestContext.domainName), never a client header. */
  domainName: string | undefined;
  /** Milliseconds the function has left (the Lambda context's clock); undefined outside Lambda. */
  remainingMs?: () => number;
}

export interface HttpResponse {
  status: number;
  /** JSON-serialised unless `raw` is given. */
  json?: unknown;
  raw?: { body: string | Buffer; contentType: string };
  headers?: Record<string, string>;
}
