/**
 * The baseline the benchmarks compare against: the documented recipe for GraphQL
 * subscriptions (Yoga for HTTP, graphql-ws on `ws`, graphql-redis-subscriptions with
 * `withFilter`), with the same SDL and the same filter semantics, and no event log: one
 * Redis topic for every event, each subscriber's filter run on every event, one
 * execution and one serialization per subscriber, one database transaction per mutation.
 * It writes through the same ledger code so that only delivery differs.
 *
 * Run as a process: PORT, DATABASE_URL, REDIS_URL, JWT_SECRET. Bench code only: never in src/.
 */
import { createServer } from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { withFilter } from 'graphql-subscriptions';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { WebSocketServer } from 'ws';
import { openPostgres } from '../../../src/db/client.ts';
import { eventFilter, type EventCriteria } from '../../../src/domain/event-filter.ts';
import type { EventType, WalletEvent } from '../../../src/domain/events.ts';
import { typeResolvers } from '../../../src/graphql/resolvers/types.ts';
import { loadTypeDefs } from '../../../src/graphql/schema.ts';
import { DateTimeScalar, MoneyScalar, SequenceScalar } from '../../../src/graphql/scalars.ts';
import { DEFAULT_TENANT } from '../../../src/domain/principal.ts';
import { Ledger } from '../../../src/ledger/ledger.ts';

const TOPIC = 'baseline:wallet-events';
const env = process.env;
const secret = new TextEncoder().encode(env.JWT_SECRET!);
const database = await openPostgres(env.DATABASE_URL!, 10);
const pubsub = new RedisPubSub({ publisher: new Redis(env.REDIS_URL!), subscriber: new Redis(env.REDIS_URL!) });
// The recipe's ledger: one transaction per mutation (no group commit), publish after commit.
const ledger = new Ledger(
  database.db,
  { publish: async (_owner: string, events: readonly WalletEvent[]) => void (await Promise.all(events.map((event) => pubsub.publish(TOPIC, event)))) },
  { groupCommit: { maxGroup: 1, maxConcurrentGroups: 10, maxWaitingPostings: 10_000 } },
);

interface Context {
  subject: string | null;
  role: string | null;
}

async function principalOf(authorization: unknown): Promise<Context> {
  const token = typeof authorization === 'string' ? authorization.replace(/^Bearer /, '') : null;
  if (!token) return { subject: null, role: null };
  const { payload } = await jwtVerify(token, secret);
  return { subject: payload.sub ?? null, role: (payload.role as string) ?? null };
}

/** A field's subscription: every event of the one topic, kept when the filter says so. */
function filtered(fieldTypes: EventType[] | null, criteria: (args: any) => EventCriteria) {
  return {
    subscribe: withFilter(
      () => pubsub.asyncIterableIterator(TOPIC),
      (event: WalletEvent | undefined, args: any, ctx: Context | undefined) =>
        Boolean(event) && event!.ownerId === (args.ownerId ?? ctx?.subject) && eventFilter({ types: fieldTypes, ...criteria(args) })(event!),
    ),
    resolve: (event: WalletEvent) => event,
  };
}

const schema = makeExecutableSchema({
  typeDefs: loadTypeDefs(),
  resolvers: [
    { Money: MoneyScalar, DateTime: DateTimeScalar, Sequence: SequenceScalar },
    typeResolvers as never,
    {
      Query: { serverStats: () => null },
      Mutation: {
        createWallet: (_: unknown, { input }: any) => ledger.createWallet(input, DEFAULT_TENANT),
        postTransaction: (_: unknown, { input }: any, ctx: Context) => ledger.postTransaction({ ...input, amount: BigInt(input.amount) }, ctx.subject!),
        // Not part of the recipe: here only so that the load tool drives the same event rate
        // into both servers (the batched-ingest row is not compared).
        postTransactions: (_: unknown, { inputs }: any, ctx: Context) =>
          ledger.postTransactions(
            inputs.map((input: any) => ({ ...input, amount: BigInt(input.amount) })),
            ctx.subject!,
          ),
      },
      Subscription: {
        walletEvents: filtered(null, (args) => ({ types: args.types, walletId: args.walletId, currency: args.filter?.currency, transaction: args.filter })),
        transactionUpdated: filtered(['TRANSACTION'], (args) => ({ walletId: args.walletId, currency: args.currency, transaction: args })),
        balanceChanged: filtered(['BALANCE'], (args) => ({ walletId: args.walletId, currency: args.currency })),
        walletStatus: filtered(['WALLET_STATUS'], (args) => ({ walletId: args.walletId })),
      },
    },
  ],
});

const yoga = createYoga<{ req: { headers: Record<string, string | undefined> } }, Context>({
  schema,
  logging: false,
  context: ({ request }) => principalOf(request.headers.get('authorization')),
});
const httpServer = createServer(yoga);
const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
useServer(
  {
    schema,
    context: (ctx) => principalOf((ctx.connectionParams as Record<string, unknown> | undefined)?.authorization),
  },
  wss,
);
httpServer.listen(Number(env.PORT), '127.0.0.1', () => console.log('"msg":"listening"'));
process.on('SIGTERM', () => process.exit(0));
