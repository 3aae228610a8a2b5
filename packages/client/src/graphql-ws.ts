/**
 * `@wallet-events/client/graphql-ws`: `WalletEventsClient`, exactly-once processing over
 * graphql-ws (resume, deduplication, batched acks, reconnects). Apart from the main entry
 * because it imports graphql-ws, which an app on SSE, Apollo or urql need not install.
 */
export { WalletEventsClient, type ConnectionState, type EventMeta, type EventSubscription, type SubscribeOptions, type WalletEventsClientOptions } from './wallet-events-client.ts';
export { WalletEventsError, HANDLER_FAILED, CONNECTION_LOST } from './wallet-events-error.ts';
