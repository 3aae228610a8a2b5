/**
 * What every stream (an owner's, the firehose's) shares about its client: it pauses in
 * place while the client's connection holds too many unsent bytes, ends with
 * SLOW_CONSUMER only when it stays stuck past the time bound, and ends when its opener's
 * token expires or is revoked.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { Signal } from '../backbone/topic-messages.ts';
import type { ClientConnection, StreamOpener } from './client-connection.ts';

/** The limits a guard applies, the same for every stream of one opener. */
export interface GuardLimits {
  /** Grace after the token's `exp` before the stream ends. */
  tokenClockSkewMs?: number;
  /** Unsent bytes on the client's connection past which the stream pauses until it drains. */
  maxBufferedBytes?: number;
  /** A stream paused this long without its client taking anything ends with SLOW_CONSUMER. */
  slowConsumerTimeoutMs?: number;
}

/** Whom a stream serves, as its opener gives it (either may be absent where a transport has none). */
export interface StreamClient {
  /** The client's connection: beyond `maxBufferedBytes` unsent the stream pauses until it drains. */
  connection?: ClientConnection | null;
  /** Who opened the stream: a revocation of their access, or their token's expiry, ends it. */
  openedBy?: StreamOpener | null;
}

/** The stream a guard watches over. */
export interface GuardedStream {
  /** The client's connection, whose backlog pauses the stream; null where there is none. */
  readonly connection: ClientConnection | null;
  /** Who opened the stream: a revocation of their access, or their token's expiry, ends it. */
  readonly openedBy: StreamOpener | null;
  /** Releases a waiting `next()` so that it looks again. */
  wake(): void;
  /** Ends the stream with `error`. */
  fail(error: DomainError): void;
  /** The SLOW_CONSUMER refusal, saying `why` and where to resume from. */
  slowConsumer(why: string): DomainError;
}

export class StreamGuard {
  /** Since when the client's connection has held too many unsent bytes (the stream is paused). */
  private pausedSince: number | null = null;

  constructor(
    private readonly limits: GuardLimits,
    private readonly stream: GuardedStream,
    /** Told when the stream pauses (metrics). */
    private readonly observer?: { paused(): void },
  ) {}

  /** True while the transport holds more unsent bytes for this client than allowed. */
  backedUp(): boolean {
    const { connection } = this.stream;
    const { maxBufferedBytes } = this.limits;
    return Boolean(connection && maxBufferedBytes && connection.bufferedBytes() > maxBufferedBytes);
  }

  /** The client reads again: the stream flows. */
  flowing(): void {
    this.pausedSince = null;
  }

  /**
   * Paused, not ended: waits (through `park`, which the stream's `wake` ends) until the
   * connection drains or a tick looks again. The position stays where it is.
   */
  async pause(park: () => Promise<void>): Promise<void> {
    if (this.pausedSince === null) {
      this.pausedSince = Date.now();
      this.observer?.paused();
    }
    const stopListening = this.stream.connection?.onDrain(() => this.stream.wake());
    await park();
    stopListening?.();
  }

  /**
   * A clock tick: ends the stream at its opener's token expiry (unless the connection
   * itself closes then), or when stuck past the bound; else lets a paused stream look again.
   */
  tick(now: number): void {
    const expiresAt = this.stream.connection?.closesAtTokenExpiry ? null : this.stream.openedBy?.expiresAt;
    if (expiresAt != null && now > expiresAt * 1000 + (this.limits.tokenClockSkewMs ?? 0)) {
      return this.stream.fail(new DomainError(ErrorCode.UNAUTHENTICATED, 'the token has expired; reconnect with a fresh one to resume', { reason: 'expired' }));
    }
    if (this.pausedSince === null) return;
    const stuckMs = now - this.pausedSince;
    const limit = this.limits.slowConsumerTimeoutMs ?? Number.POSITIVE_INFINITY;
    if (this.backedUp() && stuckMs > limit) {
      this.stream.fail(this.stream.slowConsumer(`the connection held more than ${this.limits.maxBufferedBytes} unsent bytes for ${Math.round(stuckMs / 1000)} s`));
    } else this.stream.wake(); // look again: the client may have read in the meantime
  }

  /** Ends the stream when `signal` revokes the access of whoever opened it. */
  revoked(signal: Extract<Signal, { kind: 'revoked' }>): void {
    const by = this.stream.openedBy;
    if (by && ((signal.subject && signal.subject === by.subject) || (signal.jti && signal.jti === by.tokenId))) {
      this.stream.fail(new DomainError(ErrorCode.UNAUTHENTICATED, 'access with this token has been revoked; sign in again', { reason: 'revoked' }));
    }
  }
}
