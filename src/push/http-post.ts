/**
 * One HTTP/1.1 POST with a timeout, for the push senders that speak HTTP/1.1 (Web Push,
 * FCM and its token endpoint). The response body is read up to a small cap. Never throws.
 */
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { OutboundRefused } from '../webhooks/address-rules.ts';

/** A response, or why none came (`status` null). */
export interface PostResult {
  status: number | null;
  body: string;
  error: string | null;
}

const BODY_CAP = 16 * 1024;

export function httpPost(url: URL, headers: Record<string, string | number>, body: string | Buffer, options: { agent: Agent; timeoutMs: number }): Promise<PostResult> {
  const send = url.protocol === 'https:' ? (httpsRequest as typeof httpRequest) : httpRequest;
  return new Promise((resolve) => {
    let request: ReturnType<typeof httpRequest>;
    try {
      request = send(url, { method: 'POST', agent: options.agent, headers: { 'content-length': Buffer.byteLength(body), ...headers } });
    } catch (error) {
      resolve({ status: null, body: '', error: (error as Error).message });
      return;
    }
    const timer = setTimeout(() => request.destroy(new Error(`no response within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= BODY_CAP) chunks.push(chunk);
      });
      const finish = () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), error: null });
      };
      response.once('end', finish);
      response.once('error', finish);
    });
    request.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: null, body: '', error: error instanceof OutboundRefused ? error.message : (error.code ?? error.message) });
    });
    request.end(body);
  });
}
