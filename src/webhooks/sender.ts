/**
 * One endpoint's HTTP client: keep-alive connections (at most the endpoint's concurrency),
 * connect-time address checks, a timeout per attempt, and the response read up to a small
 * cap (the rest is discarded). Redirects are not followed: a 3xx is a failure, so a
 * receiver cannot bounce a signed request to an address the rules would refuse.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { assertAddressAllowed, guardedLookup, OutboundRefused, type OutboundPolicy } from './address-rules.ts';

/** How one attempt ended. */
export interface AttemptResult {
  /** 2xx. */
  ok: boolean;
  /** The HTTP status; null when no response came (refused, timeout, reset). */
  status: number | null;
  /** What went wrong without a response, or a short note on a failing one. */
  error: string | null;
  /** The first bytes of the response body, as text. */
  excerpt: string | null;
  durationMs: number;
}

/** Sent as User-Agent with every delivery. */
export const WEBHOOK_USER_AGENT = 'wallet-events-webhooks/1';

export interface SenderOptions {
  policy: OutboundPolicy;
  timeoutMs: number;
  /** Most connections kept to the endpoint. */
  maxSockets: number;
  /** Bytes of a response body kept (for the delivery's record). */
  excerptBytes: number;
  /** Sent as User-Agent. */
  userAgent: string;
}

export class WebhookSender {
  private readonly agent: HttpAgent;
  private readonly url: URL;
  private readonly send: typeof httpRequest;

  constructor(
    url: string,
    private readonly options: SenderOptions,
  ) {
    this.url = new URL(url);
    const settings = { keepAlive: true, maxSockets: options.maxSockets, lookup: guardedLookup(options.policy) };
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent(settings) : new HttpAgent(settings);
    this.send = this.url.protocol === 'https:' ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  /** POSTs `body` with `headers`; never throws. */
  post(body: string, headers: Record<string, string>): Promise<AttemptResult> {
    const started = performance.now();
    const done = (result: Omit<AttemptResult, 'durationMs'>): AttemptResult => ({ ...result, durationMs: performance.now() - started });
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    try {
      // An IP literal skips the agent's lookup, so its address is checked here.
      if (isIP(host)) assertAddressAllowed(host, this.options.policy);
    } catch (error) {
      return Promise.resolve(done({ ok: false, status: null, error: (error as Error).message, excerpt: null }));
    }
    return new Promise((resolve) => {
      const request = this.send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': this.options.userAgent, ...headers },
      });
      const timer = setTimeout(() => request.destroy(new Error(`no response within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      request.once('response', (response) => {
        void this.readExcerpt(response).then((excerpt) => {
          clearTimeout(timer);
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          resolve(done({ ok, status, error: ok ? null : `HTTP ${status}`, excerpt }));
        });
      });
      request.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const refused = error instanceof OutboundRefused;
        resolve(done({ ok: false, status: null, error: refused ? error.message : (error.code ?? error.message), excerpt: null }));
      });
      request.end(body);
    });
  }

  /** Closes idle connections; in-flight requests finish. */
  close(): void {
    this.agent.destroy();
  }

  /** Reads up to the cap; a longer body is cut off by closing that connection. */
  private readExcerpt(response: IncomingMessage): Promise<string> {
    const cap = this.options.excerptBytes;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => resolve(Buffer.concat(chunks).subarray(0, cap).toString('utf8'));
      response.on('data', (chunk: Buffer) => {
        if (size < cap) chunks.push(chunk);
        size += chunk.length;
        if (size > cap * 16) {
          response.destroy();
          finish();
        }
      });
      response.once('end', finish);
      response.once('error', finish);
      response.once('close', finish);
    });
  }
}
