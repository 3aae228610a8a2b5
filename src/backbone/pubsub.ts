/**
 * The backbone between instances: a tiny topic pub/sub carrying serialized event batches.
 * Kept this small so the in-process and Redis implementations are trivially equivalent.
 */
export type MessageHandler = (message: string) => void;

export interface PubSub {
  /** Sends `message` to every current subscriber of `topic`, on every instance. */
  publish(topic: string, message: string): Promise<void>;
  /**
   * Starts receiving `topic`. Resolves once the subscription is active (for Redis: once
   * SUBSCRIBE is acknowledged), so nothing published afterwards can be missed. Returns
   * the function that stops it.
   */
  subscribe(topic: string, handler: MessageHandler): Promise<() => void>;
  /** Resolves when the backbone answers; for `/ready`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
