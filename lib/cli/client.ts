/** A small client for the Lakehouse HTTP API, used by the CLI. */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;
  constructor(status: number, code: string, message: string, body: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export class UnreachableError extends Error {}

export interface ClientOptions {
  api: string;
  token?: string;
}

export class Client {
  constructor(private readonly opts: ClientOptions) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}), ...extra };
  }

  async request(method: string, path: string, body?: unknown, accept?: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.opts.api.replace(/\/$/, '')}${path}`, {
        method,
        headers: this.headers({
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(accept ? { accept } : {}),
        }),
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new UnreachableError(`cannot reach the Lakehouse API at ${this.opts.api} (${(e as Error).cause ?? (e as Error).message}). Is \`npm start\` running?`);
    }
    if (!res.ok) {
      const text = await res.text();
      let parsed: { error?: { code?: string; message?: string } } = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      throw new ApiError(
        res.status,
        parsed.error?.code ?? `http_${res.status}`,
        parsed.error?.message ?? (text.slice(0, 200) || res.statusText),
        (parsed.error ?? {}) as Record<string, unknown>,
      );
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }

  /** Streams a file to a presigned URL with an exact Content-Length, reporting progress. */
  put(url: string, file: string, size: number, headers: Record<string, string>, onProgress: (sent: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.request(
        u,
        { method: 'PUT', headers: { ...headers, 'content-length': String(size) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            if ((res.statusCode ?? 500) >= 300) reject(new ApiError(res.statusCode ?? 500, 'upload_failed', `the upload PUT answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`, {}));
            else resolve();
          });
        },
      );
      req.on('error', (e) => reject(new UnreachableError(`cannot reach the storage endpoint ${u.host}: ${e.message}`)));
      let sent = 0;
      const stream = fs.createReadStream(file);
      stream.on('data', (c: Buffer | string) => {
        sent += c.length;
        onProgress(sent);
      });
      stream.on('error', reject);
      stream.pipe(req);
    });
  }
}
