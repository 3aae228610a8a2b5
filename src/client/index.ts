/** The wallet-events client library: runs in browsers and Node (no Node-only imports). */
export { WalletEventsClient, type ConnectionState, type EventMeta, type EventSubscription, type SubscribeOptions, type WalletEventsClientOptions } from './wallet-events-client.ts';
export { resumable, NOT_RESUMABLE, type OperationRequest, type ResultSink, type ResumableOptions, type SubscribingClient } from './resumable.ts';
export { WalletEventsError, HANDLER_FAILED, CONNECTION_LOST } from './wallet-events-error.ts';
export { TRANSIENT_CODES } from './error-codes.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { AckEventMutation, WalletEventsSubscription } from './documents.ts';
export type { WalletEventsSubscription as WalletEventsResult, WalletEventsSubscriptionVariables } from './generated/graphql.js';
