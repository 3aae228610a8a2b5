/**
 * The connections of this instance (graphql-ws sockets, graphql-sse streams, and SSE
 * streams for the per-owner count), with what the limits need: who owns each, when its
 * token expires, and how many operations it runs. One sweep a second (not a timer per
 * connection) closes connections whose token expired and ones idle with no subscription.
 */
import { CLOSES } from '../../domain/errors.ts';
import type { Sink } from './sink.ts';
import type { Principal } from '../../domain/principal.ts';
import type { Logger } from '../../logging/logger.ts';

/** The transports whose connections the registry holds. */
export type ConnectionTransport = 'ws' | 'graphql-sse';

interface Entry {
  principal: Principal;
  /** Which transport the connection is, for the log lines. */
  transport: ConnectionTransport;
  /**
   * The ids of its counted operations: a few at most, in an array of exactly that length
   * (copied with `concat` on change), a third of what a Set or a grown array holds.
   */
  operations: readonly string[];
  /** When the connection last had no operation, or null while it has some. */
  idleSince: number | null;
}

export class ConnectionRegistry {
  private readonly entries = new Map<Sink, Entry>();
  private readonly perOwner = new Map<string, number>();
  private streams = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limits: { connectionsPerOwner: number; idleTimeoutMs: number; tokenClockSkewMs: number },
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.sweep(Date.now()), 1_000);
    this.timer.unref();
  }

  /** Registers an authenticated connection; false when its owner is at the connection limit. */
  add(connection: Sink, principal: Principal, transport: ConnectionTransport): boolean {
    if (!this.claim(principal.subject)) return false;
    this.entries.set(connection, { principal, transport, operations: [], idleSince: Date.now() });
    return true;
  }

  /**
   * Counts an SSE stream toward its owner's connection limit. Returns the release function,
   * or null when the owner is at the limit.
   */
  addStream(subject: string): (() => void) | null {
    if (!this.claim(subject)) return null;
    this.streams++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.streams--;
      this.release(subject);
    };
  }

  remove(connection: Sink): void {
    const entry = this.entries.get(connection);
    if (!entry) return;
    this.entries.delete(connection);
    this.release(entry.principal.subject);
  }

  /** Takes one of the owner's connection places; false when none is left. */
  private claim(subject: string): boolean {
    const count = this.perOwner.get(subject) ?? 0;
    if (count >= this.limits.connectionsPerOwner) return false;
    this.perOwner.set(subject, count + 1);
    return true;
  }

  private release(subject: string): void {
    const left = (this.perOwner.get(subject) ?? 1) - 1;
    if (left > 0) this.perOwner.set(subject, left);
    else this.perOwner.delete(subject);
  }

  /** Counts an operation; false when the connection already runs `max`. */
  startOperation(connection: Sink, id: string, max: number): boolean {
    const entry = this.entries.get(connection);
    if (!entry) return false;
    if (entry.operations.length >= max) return false;
    entry.operations = entry.operations.concat(id);
    entry.idleSince = null;
    return true;
  }

  endOperation(connection: Sink, id: string): void {
    const entry = this.entries.get(connection);
    const at = entry ? entry.operations.indexOf(id) : -1;
    if (!entry || at < 0) return;
    // concat, not filter: filter grows its result as it goes (17 slots for one id).
    entry.operations = entry.operations.slice(0, at).concat(entry.operations.slice(at + 1));
    if (entry.operations.length === 0) entry.idleSince = Date.now();
  }

  /** Closes the connections authenticated as `subject` or with token `jti` (a revocation); returns how many. */
  closeRevoked(revoked: { subject?: string; jti?: string }): number {
    let closed = 0;
    for (const [connection, { principal }] of this.entries) {
      if ((revoked.subject && principal.subject === revoked.subject) || (revoked.jti && principal.tokenId === revoked.jti)) {
        connection.close(CLOSES.tokenExpired.code, 'UNAUTHENTICATED: access revoked; reconnect with a new token');
        this.remove(connection);
        closed++;
      }
    }
    return closed;
  }

  /** Open SSE streams counted here (for metrics). */
  get sseStreams(): number {
    return this.streams;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Closes, as of `now`, the connections whose token expired and those idle too long (the registry's timer calls it every second). */
  sweep(now: number): void {
    for (const [connection, entry] of this.entries) {
      const { expiresAt, subject } = entry.principal;
      if (expiresAt !== null && now > expiresAt * 1000 + this.limits.tokenClockSkewMs) {
        this.logger.info('connection closed', { transport: entry.transport, subject, reason: 'token expired' });
        connection.close(CLOSES.tokenExpired.code, 'UNAUTHENTICATED: the token has expired; reconnect with a fresh one');
        this.remove(connection);
      } else if (entry.idleSince !== null && now - entry.idleSince > this.limits.idleTimeoutMs) {
        this.logger.info('connection closed', { transport: entry.transport, subject, reason: 'idle' });
        connection.close(CLOSES.normal.code, 'idle: no subscription');
        this.remove(connection);
      }
    }
  }
}
