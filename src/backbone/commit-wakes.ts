/**
 * Firehose wake-ups on the backbone: after each commit, one small message says which
 * transaction committed events of which tenants. It carries no events (readers take them
 * from the log, in feed order), so a lost or forged wake can delay a read, never change
 * what is read.
 */
import { TENANT_PATTERN } from '../domain/principal.ts';
import type { Logger } from '../logging/logger.ts';
import type { PubSub } from './pubsub.ts';
import { parseBackboneJson } from './topic-messages.ts';

/** The one topic every instance with firehose readers listens on. */
export const COMMIT_WAKE_TOPIC = 'feed-wakes';

/** A commit of `txId` appended events of `tenants`. */
export interface CommitWake {
  txId: number;
  tenants: string[];
}

/** Most tenants one wake may name (a batch spanning more is split). */
export const TENANTS_PER_WAKE = 256;

/** Parses a wake read from the backbone; anything not of that exact shape is refused. */
export function readCommitWake(raw: string, maxBytes: number): CommitWake | { refused: string } {
  const parsed = parseBackboneJson(raw, maxBytes);
  if ('refused' in parsed) return parsed;
  const { txId, tenants } = (parsed.value ?? {}) as Partial<CommitWake>;
  if (!Number.isSafeInteger(txId) || txId! < 0) return { refused: 'txId is not a transaction id' };
  if (!Array.isArray(tenants) || tenants.length === 0 || tenants.length > TENANTS_PER_WAKE) return { refused: 'tenants is not a list of tenants' };
  if (!tenants.every((tenant) => typeof tenant === 'string' && TENANT_PATTERN.test(tenant))) return { refused: 'tenants holds something that is not a tenant name' };
  return { txId: txId!, tenants };
}

/**
 * Commit wakes for a subsystem that needs them only while it has work on this instance
 * (webhook endpoints, push devices held here): subscribed while listening, let go when
 * not, so an idle instance keeps no channel open. A failed subscription is logged and
 * tried again at the next `listen(true)`; the subsystem's periodic look carries it
 * meanwhile. Malformed wakes are logged and dropped.
 */
export class CommitWakeListener {
  private subscription: Promise<(() => void) | null> | null = null;

  constructor(
    private readonly deps: { pubsub: PubSub; logger: Logger; maxMessageBytes: number },
    /** Who listens, for the log (`webhook`, `push`). */
    private readonly who: string,
    private readonly onWake: (wake: CommitWake) => void,
  ) {}

  listen(on: boolean): void {
    if (on && !this.subscription) {
      this.subscription = this.deps.pubsub.subscribe(COMMIT_WAKE_TOPIC, (raw) => this.receive(raw)).catch((error: Error) => {
        this.deps.logger.warn(`${this.who} wake subscription failed; the periodic look carries on`, { error: error.message });
        this.subscription = null;
        return null;
      });
    } else if (!on && this.subscription) {
      void this.subscription.then((unsubscribe) => unsubscribe?.());
      this.subscription = null;
    }
  }

  private receive(raw: string): void {
    const wake = readCommitWake(raw, this.deps.maxMessageBytes);
    if ('refused' in wake) {
      this.deps.logger.warn('dropped a malformed feed wake', { reason: wake.refused });
      return;
    }
    this.onWake(wake);
  }
}
