/**
 * Revocations reach every instance through the `control` topic: each one updates its
 * revocation list, closes the matching WebSockets (4403) and ends the matching streams
 * (SSE included) within moments. A periodic reload covers a notice lost with Redis.
 */
import type { Revocation, RevocationList } from '../auth/revocations.ts';
import type { OwnerHub } from '../delivery/owner-hub.ts';
import type { PubSub } from '../delivery/pubsub.ts';
import type { Logger } from '../logger.ts';
import type { ConnectionRegistry } from './connection-registry.ts';

const CONTROL_TOPIC = 'control:revocations';
const RELOAD_INTERVAL_MS = 10_000;

/** What the API calls to revoke access. */
export interface AccessRevoker {
  revokeSubject(subject: string, reason: string | null): Promise<void>;
  revokeToken(jti: string, expiresAt: number): Promise<void>;
}

export async function startRevocationBroadcast(deps: {
  pubsub: PubSub;
  revocations: RevocationList;
  registry: ConnectionRegistry;
  hub: OwnerHub;
  log: Logger;
}): Promise<AccessRevoker & { stop(): void }> {
  const { pubsub, revocations, registry, hub, log } = deps;
  await revocations.reload();

  const enforce = (revocation: Revocation) => {
    revocations.apply(revocation);
    const target = 'subject' in revocation ? { subject: revocation.subject } : { jti: revocation.jti };
    const sockets = registry.closeRevoked(target);
    hub.broadcast({ kind: 'revoked', ...target });
    log.info('access revoked', { ...target, socketsClosed: sockets });
  };
  // Not awaited: an instance starts (and serves) while Redis is away; ioredis completes the
  // SUBSCRIBE when it is back, and the periodic reload covers what was missed meanwhile.
  let unsubscribe: () => void = () => {};
  pubsub.subscribe(CONTROL_TOPIC, (message) => enforce(JSON.parse(message) as Revocation)).then(
    (stop) => (unsubscribe = stop),
    (error: Error) => log.warn('control topic subscription failed', { error: error.message }),
  );
  const timer = setInterval(() => revocations.reload().catch((error: Error) => log.warn('revocation reload failed', { error: error.message })), RELOAD_INTERVAL_MS);
  timer.unref();

  const announce = async (revocation: Revocation) => {
    enforce(revocation); // here at once, even if the backbone is down
    await pubsub.publish(CONTROL_TOPIC, JSON.stringify(revocation));
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
