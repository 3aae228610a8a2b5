/**
 * A back-office worker for the firehose tests, run as its own process so a test can kill
 * it (-9): it follows its tenant's feed as the durable consumer `warehouse` through the
 * client library, acks what it processed (every 10 events or 20 ms), and prints each event it processed as a
 * JSON line. Usage: node --import tsx test/support/feed-worker.ts <ws url> <service token>
 */
import WebSocket from 'ws';
import { WalletEventsClient } from '@wallet-events/client/graphql-ws';

const [url, bearer] = process.argv.slice(2);
const client = new WalletEventsClient({ url: url!, token: () => bearer!, webSocketImpl: WebSocket, ackBatchSize: 10, ackIntervalMs: 20, backoff: { initialMs: 50, maxMs: 200 } });
client.subscribe<{ eventId: string; ownerId: string; sequence: number }>({
  query: 'subscription($after: String, $consumer: String) { feed(after: $after, consumer: $consumer) { eventId ownerId sequence } }',
  consumer: 'warehouse',
  onEvent: (event) => void process.stdout.write(`${JSON.stringify(event)}\n`),
  onError: (error) => {
    process.stderr.write(`${error.code}: ${error.message}\n`);
    process.exit(1);
  },
});
