// The live feed: urql's useSubscription over the resumable connection, typed by
// graphql-codegen's client preset (`npm run codegen` writes examples/generated/).
import { useSyncExternalStore } from 'react';
import { useSubscription } from 'urql';
import { graphql } from '../generated/gql.ts';
import type { WalletFeedSubscription } from '../generated/graphql.ts';
import type { Connection } from './connection.ts';

export const WalletFeed = graphql(`
  subscription WalletFeed($after: String) {
    walletEvents(after: $after) {
      __typename
      eventId
      sequence
      walletId
      ... on TransactionEvent {
        transaction { id direction amount currency status description }
      }
      ... on BalanceEvent {
        balance { available currency }
      }
    }
  }
`);

type FeedEvent = WalletFeedSubscription['walletEvents'];
type TransactionRow = Extract<FeedEvent, { __typename: 'TransactionEvent' }>;
type Balance = Extract<FeedEvent, { __typename: 'BalanceEvent' }>['balance'];

interface Feed {
  rows: TransactionRow[];
  balances: Record<string, Balance>;
}

/** Folds each event into the page's state: transactions newest first, the latest balance per wallet. */
function fold(feed: Feed = { rows: [], balances: {} }, data: WalletFeedSubscription): Feed {
  const event = data.walletEvents;
  if (event.__typename === 'TransactionEvent') return { ...feed, rows: [event, ...feed.rows] };
  if (event.__typename === 'BalanceEvent') return { ...feed, balances: { ...feed.balances, [event.walletId]: event.balance } };
  return feed;
}

export function WalletFeedPage({ connection }: { connection: Connection }) {
  const state = useSyncExternalStore(connection.onChange, connection.state);
  const [{ data: feed, error }] = useSubscription({ query: WalletFeed, variables: { after: null } }, fold);
  return (
    <main>
      <p>
        Connection: <strong id="state" data-state={state}>{state}</strong>
      </p>
      {error && <p role="alert">{error.message}</p>}
      <ul id="balances">
        {Object.entries(feed?.balances ?? {}).map(([walletId, balance]) => (
          <li key={walletId} data-wallet={walletId}>
            {walletId}: <span className="available">{balance.available}</span> {balance.currency}
          </li>
        ))}
      </ul>
      <table id="feed">
        <tbody>
          {(feed?.rows ?? []).map((row) => (
            <tr key={row.eventId} data-sequence={row.sequence}>
              <td>{row.transaction.direction}</td>
              <td>{row.transaction.amount}</td>
              <td>{row.transaction.status}</td>
              <td>{row.transaction.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
