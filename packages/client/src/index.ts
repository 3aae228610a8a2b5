/**
 * `@wallet-events/client`: resume any GraphQL client's wallet-events subscriptions from
 * their cursor (`resumable`), the error and close codes, the backoff, and the typed
 * operations. Runs in browsers and Node; it needs `graphql`, and nothing of a transport:
 * the app brings its own client (graphql-ws, graphql-sse, Apollo, urql). The full client
 * over graphql-ws, with acks and deduplication, is `@wallet-events/client/graphql-ws`.
 */
export { resumable, NOT_RESUMABLE, type OperationRequest, type ResultSink, type ResumableOptions, type SubscribingClient } from './resumable.ts';
export { WalletEventsError, HANDLER_FAILED, CONNECTION_LOST } from './wallet-events-error.ts';
export { TRANSIENT_CODES, TERMINAL_CLOSE_CODES } from './error-codes.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { AckEventMutation, WalletEventsSubscription } from './documents.ts';
export type { WalletEventsSubscription as WalletEventsResult, WalletEventsSubscriptionVariables } from './generated/graphql.js';
