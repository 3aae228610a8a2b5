/**
 * Revocations reach every instance through the `control` topic: each one updates its
 * revocation list, closes the matching WebSockets (4403) and ends the matching streams
 * (SSE included) within moments. A periodic reload covers a notice lost with Redis: a
 * revocation it finds that this instance had not heard of is enforced the same way.
 */
import { readRevocation, type AccessRevoker, type Revocation, type RevocationList } from '../../auth/revocations.ts';
import type { DroppedMessages } from '../../backbone/dropped-messages.ts';
import type { OwnerFeeds } from '../../streams/owner-feeds.ts';
import type { PubSub } from '../../backbone/pubsub.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ConnectionRegistry } from './connection-registry.ts';

/** The control topic's name (under the deployment's prefix). */
export const CONTROL_TOPIC = 'control:revocations';

export async function startRevocationBroadcast(deps: {
  pubsub: PubSub;
  revocations: RevocationList;
  registry: ConnectionRegistry;
  feeds: OwnerFeeds;
  logger: Logger;
  dropped: DroppedMessages;
  reloadIntervalMs: number;
  maxMessageBytes: number;
}): Promise<AccessRevoker & { stop(): void }> {
  const { pubsub, revocations, registry, feeds, logger, dropped } = deps;

  /** Ends what `revocation` covers on this instance (its list already holds it). */
  const enforce = (revocation: Revocation, source: 'notice' | 'reload' | 'local') => {
    const target = 'subject' in revocation ? { subject: revocation.subject } : { jti: revocation.jti };
    const sockets = registry.closeRevoked(target);
    feeds.broadcast({ kind: 'revoked', ...target });
    logger.info('access revoked', { ...target, socketsClosed: sockets, source });
  };
  const reload = async () => {
    for (const revocation of await revocations.reload()) enforce(revocation, 'reload');
  };
  await reload();

  // Not awaited: an instance starts (and serves) while Redis is away; ioredis completes the
  // SUBSCRIBE when it is back, and the periodic reload covers what was missed meanwhile.
  let unsubscribe: () => void = () => {};
  pubsub
    .subscribe(CONTROL_TOPIC, (raw) => {
      const revocation = readRevocation(raw, deps.maxMessageBytes);
      if (!revocation) return dropped.drop(CONTROL_TOPIC, 'not a revocation notice');
      revocations.apply(revocation);
      enforce(revocation, 'notice');
    })
    .then(
      (stop) => (unsubscribe = stop),
      (error: Error) => logger.warn('control topic subscription failed', { error: error.message }),
    );
  const timer = setInterval(() => reload().catch((error: Error) => logger.warn('revocation reload failed', { error: error.message })), deps.reloadIntervalMs);
  timer.unref();

  const announce = async (revocation: Revocation) => {
    enforce(revocation, 'local'); // here at once, even if the backbone is down
    // Stored and enforced here already: a notice the backbone cannot take is covered by the
    // other instances' reload, so the revocation itself succeeds.
    await pubsub.publish(CONTROL_TOPIC, JSON.stringify(revocation)).catch((error: Error) => {
      logger.warn('revocation notice not published; other instances enforce it at their next reload', { error: error.message });
    });
  };
  return {
    async revokeSubject(subject, reason) {
      await announce(await revocations.revokeSubject(subject, reason));
    },
    async revokeToken(jti, expiresAt) {
      await announce(await revocations.revokeToken(jti, expiresAt));
    },
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
