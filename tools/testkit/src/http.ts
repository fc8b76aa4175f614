import { request as httpReq, type IncomingHttpHeaders } from 'node:http';
import { request as httpsReq } from 'node:https';

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** PEM CA to trust for https (e.g. a TLS registry's caFile contents). */
  ca?: string | Buffer;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body bytes received (possibly partial when `error` is set). */
  body: Buffer;
  /** Set when the connection failed after the response started (e.g. cut by the fault proxy). */
  error?: Error;
}

/**
 * One raw HTTP(S) request with node:http, no redirects followed, no retries:
 * for tests that need a custom CA or want to see a truncated body. Rejects
 * only if no response arrives at all.
 */
export function httpRequest(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const req = (u.protocol === 'https:' ? httpsReq : httpReq)(u, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });
  return new Promise((resolve, reject) => {
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (error?: Error): void => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ...(error ? { error } : {}) });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish());
      res.on('error', (e) => finish(e));
      res.on('aborted', () => finish(new Error('aborted')));
      res.on('close', () => {
        if (!res.complete) finish(new Error('connection closed before the end of the body'));
      });
    });
    req.end(options.body);
  });
}
