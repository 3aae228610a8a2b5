/**
 * What a stream needs of the client connection its events go out on, declared once here
 * (the layer that uses it) and implemented by every transport's sink: its backlog, a call
 * when the backlog drains, and whether the connection itself ends at token expiry.
 */
export interface ClientConnection {
  /** Bytes queued for the client and not yet taken by the kernel. */
  bufferedBytes(): number;
  /** Calls `listener` each time the connection flushes its backlog; returns the unsubscribe function. */
  onDrain(listener: () => void): () => void;
  /**
   * True where the connection is closed when its token expires (a graphql-ws socket closes
   * with 4403 and the client reconnects with a fresh token), so a stream on it need not end
   * itself; false where each stream must end itself, saying why (SSE).
   */
  readonly closesAtTokenExpiry: boolean;
}

/** Who opened a stream: a revocation of their access, or their token's expiry, ends it. */
export interface StreamOpener {
  subject: string;
  tokenId: string | null;
  /** The token's `exp`, in seconds since the epoch; null for a token without one. */
  expiresAt: number | null;
}
