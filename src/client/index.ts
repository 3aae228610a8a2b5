/** The wallet-events client library. */
export { WalletEventsClient, type ConnectionState, type EventMeta, type EventSubscription, type SubscribeOptions, type WalletEventsClientOptions } from './wallet-events-client.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { AckEventMutation, WalletEventsSubscription } from './documents.ts';
export type { WalletEventsSubscription as WalletEventsResult, WalletEventsSubscriptionVariables } from './generated/graphql.js';
