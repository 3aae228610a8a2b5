/**
 * Answers per-address refusals (see address-guard.ts): 429 with `Retry-After` on HTTP and
 * on WebSocket upgrades (before any socket is accepted), each with an audit line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { AddressGuard, AddressRefusal } from './address-guard.ts';
import type { RequestKind } from '../core/requests.ts';

function body(refusal: AddressRefusal): string {
  return JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: ErrorCode.RATE_LIMITED, reason: refusal.reason, limit: refusal.limit, retryAfterMs: refusal.retryAfterMs } }] });
}

function audit(logger: Logger, transport: string, address: string, refusal: AddressRefusal): void {
  logger.warn('connection refused', { transport, remote: address, reason: `address ${refusal.reason}`, limit: refusal.limit, retryAfterMs: refusal.retryAfterMs });
}

/** Refuses a WebSocket upgrade with 429 and closes the TCP connection. */
export function refuseUpgrade(socket: Duplex, refusal: AddressRefusal, logger: Logger, address: string): void {
  audit(logger, 'ws', address, refusal);
  const text = body(refusal);
  socket.end(
    `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${Math.ceil(refusal.retryAfterMs / 1000)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/**
 * Applies the per-address limits to an HTTP request to the GraphQL endpoints: the cool-down
 * to every one, the connection limits to those opening a stream (released when it closes).
 * False when it was refused (and answered).
 */
export function admitRequest(guard: AddressGuard, req: IncomingMessage, res: ServerResponse, kind: RequestKind, logger: Logger): boolean {
  if (kind === 'other') return true;
  const address = guard.addressOf(req);
  // Streams are connections, for the limits: an event stream, and a graphql-sse stream (its GET, or a request accepting a stream).
  const stream = kind === 'event-stream' || (kind === 'graphql-sse' && (req.method === 'GET' || (req.headers.accept ?? '').includes('text/event-stream')));
  const admitted = stream ? guard.open(address) : guard.check(address);
  if (typeof admitted === 'function') {
    res.once('close', admitted);
    return true;
  }
  if (admitted === null) return true;
  audit(logger, stream ? 'sse' : 'http', address, admitted);
  res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(Math.ceil(admitted.retryAfterMs / 1000)) }).end(body(admitted));
  return false;
}
