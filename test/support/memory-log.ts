/**
 * An owner's log held in memory, for unit tests of the delivery core (feeds, streams):
 * the same answers as the event log's `head` and `read`, with a retention watermark that a
 * test can raise, and a count of reads so a test can see one read serve every subscriber.
 */
import type { WalletEvent } from '../../src/domain/events.ts';
import type { LogQuery, LogReader } from '../../src/streams/event-log.ts';

export class MemoryLog implements LogReader {
  readonly events: WalletEvent[] = [];
  /** The first sequence still kept (a test raises it to prune). */
  first = 1;
  reads = 0;

  constructor(readonly ownerId = 'owner-1') {}

  /** Appends `count` events (sequences continue from the last); returns them. */
  append(count: number, type: WalletEvent['type'] = 'BALANCE'): WalletEvent[] {
    const added = Array.from({ length: count }, (_, i) => makeEvent(this.ownerId, this.events.length + 1 + i, type));
    this.events.push(...added);
    return added;
  }

  async head(): Promise<number> {
    return this.events.length;
  }

  async read(_ownerId: string, afterSequence: number, limit: number, query: LogQuery = {}): Promise<WalletEvent[]> {
    this.reads++;
    return this.events.filter((event) => event.sequence > afterSequence && event.sequence >= this.first && (query.upTo == null || event.sequence <= query.upTo)).slice(0, limit);
  }
}

/** A balance event (or the `type` asked for) of `ownerId` at `sequence`. */
export function makeEvent(ownerId: string, sequence: number, type: WalletEvent['type'] = 'BALANCE'): WalletEvent {
  const envelope = { eventId: `e-${ownerId}-${sequence}`, ownerId, walletId: 'w-1', sequence, occurredAt: new Date(0).toISOString() };
  if (type === 'TRANSACTION') {
    return {
      ...envelope,
      type,
      data: { id: `t-${sequence}`, walletId: 'w-1', direction: 'CREDIT', type: 'DEPOSIT', amount: '1', currency: 'NGN', status: 'SUCCESS', previousStatus: null, counterparty: null, description: null, reversalReason: null, createdAt: envelope.occurredAt, updatedAt: envelope.occurredAt },
    };
  }
  if (type === 'WALLET_STATUS') return { ...envelope, type, data: { walletId: 'w-1', change: 'CREATED', status: 'ACTIVE', currency: 'NGN', reason: null } };
  return { ...envelope, type: 'BALANCE', data: { walletId: 'w-1', currency: 'NGN', available: String(sequence), ledger: String(sequence), pending: '0' } };
}
