/** Operations of the client library, typed from the schema by codegen (`npm run codegen`). */
import { graphql } from './generated/gql.js';

/** Every event type of one owner, with the resume variables the library fills in. */
export const WalletEventsSubscription = graphql(`
  subscription WalletEvents($after: String, $consumer: String, $types: [WalletEventType!], $walletId: ID) {
    walletEvents(after: $after, consumer: $consumer, types: $types, walletId: $walletId) {
      __typename
      eventId
      sequence
      cursor
      walletId
      occurredAt
      type
      ... on TransactionEvent {
        previousStatus
        transaction {
          id
          direction
          type
          amount
          currency
          status
          counterparty
          description
        }
      }
      ... on BalanceEvent {
        balance {
          available
          ledger
          pending
          currency
        }
      }
      ... on WalletStatusEvent {
        change
        status
        reason
      }
    }
  }
`);

/** Cumulative ack of a consumer's position. */
export const AckEventMutation = graphql(`
  mutation AckEvent($eventId: ID!, $consumer: String!) {
    ackEvent(eventId: $eventId, consumer: $consumer) {
      sequence
    }
  }
`);
