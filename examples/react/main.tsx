// The page's entry point: `#token=<user token>&api=<GraphQL URL>` in the address.
import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';
import { connect } from './connection.ts';
import { WalletFeedPage } from './wallet-feed.tsx';

const params = new URLSearchParams(location.hash.slice(1));
const connection = connect(params.get('api') ?? `${location.origin}/graphql`, params.get('token') ?? '');

createRoot(document.getElementById('root')!).render(
  <Provider value={connection.client}>
    <WalletFeedPage connection={connection} />
  </Provider>,
);
