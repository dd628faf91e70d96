/**
 * Invoke handlers through their real exported entry points with real event shapes: HTTP API
 * (payload v2) events as API Gateway sends them, S3 notifications as AWS sends them.
 */
import crypto from 'node:crypto';
import { awsEncodeKey } from '../../localstack/event-bridge.js';
import { assertMatchesOpenApi } from './openapi.js';

export interface HttpCall {
  method: string;
  path: string;
  routeKey?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  base64?: boolean;
}

export function httpEvent(call: HttpCall) {
  const rawBody = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const headers: Record<string, string> = {
    accept: '*/*',
    host: '127.0.0.1:3000',
    'user-agent': 'vitest',
    ...(rawBody !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(rawBody)) } : {}),
    ...Object.fromEntries(Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const qs = call.query ? new URLSearchParams(call.query).toString() : '';
  const now = new Date();
  return {
    version: '2.0',
    routeKey: call.routeKey ?? `${call.method} ${call.path}`,
    rawPath: call.path,
    rawQueryString: qs,
    headers,
    ...(call.query ? { queryStringParameters: call.query } : {}),
    ...(call.pathParameters ? { pathParameters: call.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: crypto.randomUUID(),
      routeKey: call.routeKey ?? `${call.method} ${call.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(rawBody !== undefined
      ? call.base64
        ? { body: Buffer.from(rawBody).toString('base64'), isBase64Encoded: true }
        : { body: rawBody, isBase64Encoded: false }
      : { isBase64Encoded: false }),
  };
}

export function lambdaContext(functionName = 'lakehouse-test') {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: Buffer;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type AnyHandler = (event: any, context: any) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Calls an HTTP handler; the response is checked against openapi.yaml (test/helpers/openapi.ts). */
export async function callHttp(handler: AnyHandler, call: HttpCall): Promise<HttpReply> {
  const res = await handler(httpEvent(call), lambdaContext());
  const body = res.isBase64Encoded ? Buffer.from(res.body, 'base64') : Buffer.from(res.body ?? '', 'utf8');
  assertMatchesOpenApi({ method: call.method, path: call.path, status: res.statusCode, headers: res.headers ?? {}, body });
  const text = body.toString('utf8');
  let json: unknown;
  if (/^application\/json/.test(res.headers?.['content-type'] ?? '') && text) json = JSON.parse(text);
  return { status: res.statusCode, headers: res.headers ?? {}, text, body, json };
}

/** An S3 ObjectCreated notification exactly as AWS delivers it (key URL-encoded). */
export function s3Event(bucketName: string, key: string, size: number, eTag = 'd41d8cd98f00b204e9800998ecf8427e', eventName = 'ObjectCreated:Put') {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': 'example' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'ingest-uploads',
          bucket: { name: bucketName, ownerIdentity: { principalId: 'EXAMPLE' }, arn: `arn:aws:s3:::${bucketName}` },
          object: { key: awsEncodeKey(key), size, eTag, sequencer: Date.now().toString(16).toUpperCase() },
        },
      },
    ],
  };
}
