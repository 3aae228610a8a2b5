import type { ClientConnection } from '../../streams/client-connection.ts';

/**
 * What every transport gives delivery: a place to write pre-built frames, with its
 * backpressure and its close. graphql-ws sockets, SSE responses and graphql-sse streams
 * all implement it, so limits, pausing, revocation and expiry work the same on each
 * (docs/ARCHITECTURE.md, "Sinks").
 */
export interface Sink extends ClientConnection {
  /** Queues one frame (already serialized) for the client. */
  send(frame: string): void;
  /** Ends the connection, telling the client why (a WebSocket close code; HTTP streams just end). */
  close(code: number, reason: string): void;
}
