/** What every resolver receives: who is calling and the services it may use. */
import type { EventStreamOptions } from '../delivery/event-stream.ts';
import type { EventLog } from '../delivery/event-log.ts';
import type { DomainError } from '../domain/errors.ts';
import type { WalletEvent } from '../domain/events.ts';
import type { Principal } from '../domain/principal.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { LedgerQueries } from '../ledger/queries.ts';

/** The application services resolvers call; built once by the composition root. */
export interface Services {
  ledger: Ledger;
  queries: LedgerQueries;
  log: EventLog;
  openStream(options: Omit<EventStreamOptions, 'queueLimit'>): Promise<AsyncIterableIterator<WalletEvent>>;
  maxPageSize: number;
}

export interface GraphQLContext {
  /** The verified caller; null when the request carried no token. */
  principal: Principal | null;
  /** Why a token that was presented was refused; reported by the first field that needs auth. */
  authError: DomainError | null;
  services: Services;
}
