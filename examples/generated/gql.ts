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
    "\n  subscription WalletEvents($after: String) {\n    walletEvents(after: $after) {\n      eventId\n      sequence\n      cursor\n      type\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n": typeof types.WalletEventsDocument,
    "\n  subscription WalletFeed($after: String) {\n    walletEvents(after: $after) {\n      __typename\n      eventId\n      sequence\n      walletId\n      ... on TransactionEvent {\n        transaction { id direction amount currency status description }\n      }\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n": typeof types.WalletFeedDocument,
    "\n  subscription BalanceUpdates($after: String, $walletId: ID) {\n    balanceChanged(after: $after, walletId: $walletId) {\n      sequence\n      cursor\n      walletId\n      balance { available ledger pending currency }\n    }\n  }\n": typeof types.BalanceUpdatesDocument,
};
const documents: Documents = {
    "\n  subscription WalletEvents($after: String) {\n    walletEvents(after: $after) {\n      eventId\n      sequence\n      cursor\n      type\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n": types.WalletEventsDocument,
    "\n  subscription WalletFeed($after: String) {\n    walletEvents(after: $after) {\n      __typename\n      eventId\n      sequence\n      walletId\n      ... on TransactionEvent {\n        transaction { id direction amount currency status description }\n      }\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n": types.WalletFeedDocument,
    "\n  subscription BalanceUpdates($after: String, $walletId: ID) {\n    balanceChanged(after: $after, walletId: $walletId) {\n      sequence\n      cursor\n      walletId\n      balance { available ledger pending currency }\n    }\n  }\n": types.BalanceUpdatesDocument,
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
export function graphql(source: "\n  subscription WalletEvents($after: String) {\n    walletEvents(after: $after) {\n      eventId\n      sequence\n      cursor\n      type\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription WalletEvents($after: String) {\n    walletEvents(after: $after) {\n      eventId\n      sequence\n      cursor\n      type\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WalletFeed($after: String) {\n    walletEvents(after: $after) {\n      __typename\n      eventId\n      sequence\n      walletId\n      ... on TransactionEvent {\n        transaction { id direction amount currency status description }\n      }\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription WalletFeed($after: String) {\n    walletEvents(after: $after) {\n      __typename\n      eventId\n      sequence\n      walletId\n      ... on TransactionEvent {\n        transaction { id direction amount currency status description }\n      }\n      ... on BalanceEvent {\n        balance { available currency }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription BalanceUpdates($after: String, $walletId: ID) {\n    balanceChanged(after: $after, walletId: $walletId) {\n      sequence\n      cursor\n      walletId\n      balance { available ledger pending currency }\n    }\n  }\n"): (typeof documents)["\n  subscription BalanceUpdates($after: String, $walletId: ID) {\n    balanceChanged(after: $after, walletId: $walletId) {\n      sequence\n      cursor\n      walletId\n      balance { available ledger pending currency }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;