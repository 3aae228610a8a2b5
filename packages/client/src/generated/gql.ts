/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  subscription WalletEvents($after: String, $consumer: String, $types: [WalletEventType!], $walletId: ID) {\n    walletEvents(after: $after, consumer: $consumer, types: $types, walletId: $walletId) {\n      __typename\n      eventId\n      sequence\n      cursor\n      walletId\n      occurredAt\n      type\n      ... on TransactionEvent {\n        previousStatus\n        transaction {\n          id\n          direction\n          type\n          amount\n          currency\n          status\n          counterparty\n          description\n        }\n      }\n      ... on BalanceEvent {\n        balance {\n          available\n          ledger\n          pending\n          currency\n        }\n      }\n      ... on WalletStatusEvent {\n        change\n        status\n        reason\n      }\n    }\n  }\n": typeof types.WalletEventsDocument,
    "\n  mutation AckEvent($eventId: ID!, $consumer: String!) {\n    ackEvent(eventId: $eventId, consumer: $consumer) {\n      sequence\n    }\n  }\n": typeof types.AckEventDocument,
};
const documents: Documents = {
    "\n  subscription WalletEvents($after: String, $consumer: String, $types: [WalletEventType!], $walletId: ID) {\n    walletEvents(after: $after, consumer: $consumer, types: $types, walletId: $walletId) {\n      __typename\n      eventId\n      sequence\n      cursor\n      walletId\n      occurredAt\n      type\n      ... on TransactionEvent {\n        previousStatus\n        transaction {\n          id\n          direction\n          type\n          amount\n          currency\n          status\n          counterparty\n          description\n        }\n      }\n      ... on BalanceEvent {\n        balance {\n          available\n          ledger\n          pending\n          currency\n        }\n      }\n      ... on WalletStatusEvent {\n        change\n        status\n        reason\n      }\n    }\n  }\n": types.WalletEventsDocument,
    "\n  mutation AckEvent($eventId: ID!, $consumer: String!) {\n    ackEvent(eventId: $eventId, consumer: $consumer) {\n      sequence\n    }\n  }\n": types.AckEventDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WalletEvents($after: String, $consumer: String, $types: [WalletEventType!], $walletId: ID) {\n    walletEvents(after: $after, consumer: $consumer, types: $types, walletId: $walletId) {\n      __typename\n      eventId\n      sequence\n      cursor\n      walletId\n      occurredAt\n      type\n      ... on TransactionEvent {\n        previousStatus\n        transaction {\n          id\n          direction\n          type\n          amount\n          currency\n          status\n          counterparty\n          description\n        }\n      }\n      ... on BalanceEvent {\n        balance {\n          available\n          ledger\n          pending\n          currency\n        }\n      }\n      ... on WalletStatusEvent {\n        change\n        status\n        reason\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription WalletEvents($after: String, $consumer: String, $types: [WalletEventType!], $walletId: ID) {\n    walletEvents(after: $after, consumer: $consumer, types: $types, walletId: $walletId) {\n      __typename\n      eventId\n      sequence\n      cursor\n      walletId\n      occurredAt\n      type\n      ... on TransactionEvent {\n        previousStatus\n        transaction {\n          id\n          direction\n          type\n          amount\n          currency\n          status\n          counterparty\n          description\n        }\n      }\n      ... on BalanceEvent {\n        balance {\n          available\n          ledger\n          pending\n          currency\n        }\n      }\n      ... on WalletStatusEvent {\n        change\n        status\n        reason\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AckEvent($eventId: ID!, $consumer: String!) {\n    ackEvent(eventId: $eventId, consumer: $consumer) {\n      sequence\n    }\n  }\n"): (typeof documents)["\n  mutation AckEvent($eventId: ID!, $consumer: String!) {\n    ackEvent(eventId: $eventId, consumer: $consumer) {\n      sequence\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;