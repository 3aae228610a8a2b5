/**
 * A compiled result plan gives graphql-js's own result, byte for byte, for every event
 * type and every way a document can select (aliases, fragments, `@include`/`@skip` by
 * variable, `__typename`, lists, nulls), and hands an event back to `execute` wherever it
 * could not promise that (a refusal, a null in a non-null field, an asynchronous resolver).
 * Which variables shape a result decides which subscribers share one.
 */
import {
  execute,
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  parse,
  type ExecutionArgs,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { DomainError, ErrorCode } from '../../../src/domain/errors.ts';
import type { WalletEvent } from '../../../src/domain/events.ts';
import { ResultPlan, shapingVariables } from '../../../src/graphql/result-plan.ts';
import { createSchema } from '../../../src/graphql/schema.ts';
import { makeEvent } from '../../support/memory-log.ts';

const schema = createSchema();
const at = new Date(86_400_000).toISOString();

const transaction = makeEvent('o-1', 1, 'TRANSACTION');
const balance = makeEvent('o-1', 2, 'BALANCE');
const status: WalletEvent = { ...makeEvent('o-1', 3, 'WALLET_STATUS'), data: { walletId: 'w-1', change: 'FROZEN', status: 'FROZEN', currency: 'NGN', reason: 'court order' } } as WalletEvent;
const fraud: WalletEvent = {
  eventId: 'e-4', ownerId: 'o-1', walletId: 'w-1', sequence: 4, occurredAt: at, type: 'FRAUD',
  data: { walletId: 'w-1', currency: 'NGN', flagId: 'f-1', transaction: { ...(transaction.data as never as object), status: 'PENDING', previousStatus: 'PENDING' } as never, score: 97, reason: 'velocity', flaggedBy: 'risk' },
};
const created: WalletEvent = {
  eventId: 'e-5', ownerId: 'o-1', walletId: 'w-1', sequence: 5, occurredAt: at, type: 'NOTIFICATION',
  data: {
    walletId: 'w-1', currency: 'NGN', change: 'CREATED', readIds: [], readAt: null, unreadCount: 1,
    notification: { id: 'n-1', ownerId: 'o-1', walletId: 'w-1', kind: 'FRAUD_FLAG', title: 'Possible fraud', body: 'look', causeEventId: 'e-4', ruleId: null, transactionId: 't-1', createdAt: at, readAt: null },
  },
};
const read: WalletEvent = { ...created, eventId: 'e-6', sequence: 6, data: { ...(created.data as object), change: 'READ', notification: null, readIds: ['n-1', 'n-2'], readAt: at, unreadCount: 0 } } as WalletEvent;
const EVENTS = [transaction, balance, status, fraud, created, read];

const EVERYTHING = `
  subscription Everything($after: String, $withBalance: Boolean!, $noTx: Boolean = false) {
    walletEvents(after: $after) {
      __typename eventId ownerId walletId sequence cursor occurredAt kind: type
      ...Tx @skip(if: $noTx)
      ... on BalanceEvent @include(if: $withBalance) { balance { available ledger pending currency } again: balance { available } }
      ... on WalletStatusEvent { change status reason }
      ... on FraudEvent { flagId score reason flaggedBy transaction { id status } }
      ... on NotificationEvent { notificationChange readIds readAt unreadCount notification { __typename id kind title body walletId causeEventId ruleId transactionId createdAt readAt } }
    }
  }
  fragment Tx on TransactionEvent { transaction { id walletId direction type amount currency status counterparty description reversalReason createdAt updatedAt } previousStatus }`;

function args(source: string, variableValues: Record<string, unknown> = {}, operationName?: string): ExecutionArgs {
  return { schema, document: parse(source), variableValues, operationName, contextValue: {} };
}

/** The plan's text and graphql-js's result, as the JSON text a client receives. */
function both(plan: ResultPlan, base: ExecutionArgs, event: unknown) {
  const data = plan.run(event, base.contextValue);
  return { planned: data === null ? null : `{"data":${data}}`, executed: JSON.stringify(execute({ ...base, rootValue: event })) };
}

describe('a compiled result plan', () => {
  it('renders every event type as execute does, through aliases, fragments and directives', () => {
    for (const variables of [{ withBalance: true }, { withBalance: false, noTx: true }, { withBalance: true, after: 'x' }]) {
      const base = args(EVERYTHING, variables);
      const plan = ResultPlan.compile(base)!;
      expect(plan).not.toBeNull();
      for (const event of EVENTS) {
        const { planned, executed } = both(plan, base, event);
        expect(planned).toBe(executed);
      }
    }
  });

  it('writes every string as JSON.stringify does: quotes, backslashes, control characters, emoji, lone surrogates', () => {
    const base = args(`subscription { walletEvents { ... on TransactionEvent { transaction { description counterparty } } } }`);
    const plan = ResultPlan.compile(base)!;
    for (const text of ['plain', 'say "hi"', 'back\\slash', 'line\nbreak\ttab\u0001', 'caf\u00e9 \u20ac \u2028', 'rocket \ud83d\ude80', 'lone \ud83d here', '']) {
      const event = { ...transaction, data: { ...(transaction.data as object), description: text, counterparty: `${text}!` } } as WalletEvent;
      const { planned, executed } = both(plan, base, event);
      expect(planned).toBe(executed);
    }
  });

  it('writes enums, numbers and booleans as JSON.stringify does, also a scalar that serializes to NaN or an object', () => {
    const Odd = new GraphQLScalarType({ name: 'Odd', serialize: (value) => value });
    const Level = new GraphQLEnumType({ name: 'Level', values: { LOW: { value: 1 }, HIGH_2: { value: 2 } } });
    const Reading = new GraphQLObjectType({
      name: 'Reading',
      fields: { level: { type: Level }, count: { type: GraphQLInt }, ratio: { type: GraphQLFloat }, on: { type: GraphQLBoolean }, odd: { type: Odd } },
    });
    const query = new GraphQLObjectType({ name: 'Query', fields: { unused: { type: GraphQLInt } } });
    const own = new GraphQLSchema({ query, subscription: new GraphQLObjectType({ name: 'Subscription', fields: { reading: { type: Reading } } }) });
    const base: ExecutionArgs = { schema: own, document: parse('subscription { reading { level count ratio on odd } }'), contextValue: {} };
    const plan = ResultPlan.compile(base)!;
    expect(plan).not.toBeNull();
    const readings = [
      { level: 1, count: -0, ratio: 1e21, on: true, odd: Number.NaN },
      { level: 2, count: 2 ** 31 - 1, ratio: -1.5e-7, on: false, odd: Number.POSITIVE_INFINITY },
      { level: 2, count: 0, ratio: 0.1 + 0.2, on: true, odd: { nested: ['a', 1, true] } },
      { level: 1, count: 7, ratio: 3, on: false, odd: 'say "hi"' },
    ];
    for (const reading of readings) {
      const { planned, executed } = both(plan, base, { reading });
      expect(planned).toBe(executed);
    }
  });

  it('renders each subscription field as execute does', () => {
    const documents: [string, WalletEvent[]][] = [
      [`subscription { transactionUpdated { eventId transaction { amount status } previousStatus } }`, [transaction]],
      [`subscription { balanceChanged { sequence balance { available } } }`, [balance]],
      [`subscription { walletStatus { change status reason } }`, [status]],
      [`subscription { feed { eventId ... on TransactionEvent { transaction { id } } } }`, EVENTS],
    ];
    for (const [source, events] of documents) {
      const base = args(source);
      const plan = ResultPlan.compile(base)!;
      for (const event of events) {
        const { planned, executed } = both(plan, base, event);
        expect(planned).toBe(executed);
      }
    }
  });

  it('hands a refusal back to execute, which reports it as the field’s error', () => {
    const base = args(EVERYTHING, { withBalance: true });
    const refusal = { failure: new DomainError(ErrorCode.SLOW_CONSUMER, 'too slow') };
    expect(ResultPlan.compile(base)!.run(refusal, {})).toBeNull();
    const executed = execute({ ...base, rootValue: refusal }) as unknown as { errors: { originalError: unknown }[] };
    expect(executed.errors[0]!.originalError).toBe(refusal.failure);
  });

  it('hands back an event with a null in a non-null field, so the error and its null propagation are execute’s', () => {
    const broken = { ...balance, data: { ...(balance.data as object), available: null } };
    const base = args(`subscription { walletEvents { eventId ... on BalanceEvent { balance { available } } } }`);
    expect(ResultPlan.compile(base)!.run(broken, {})).toBeNull();
    expect(execute({ ...base, rootValue: broken })).toMatchObject({ data: null, errors: [{ path: ['walletEvents', 'balance', 'available'] }] });
  });

  it('hands back an event whose selection reaches an asynchronous resolver', () => {
    const base = args(`subscription { walletEvents { ... on NotificationEvent { notification { cause { eventId } } } } }`);
    const plan = ResultPlan.compile(base)!;
    const context = { services: { eventLog: { find: async () => null } } };
    expect(plan.run(created, context)).toBeNull();
    // Events that never reach it keep the plan.
    expect(plan.run(balance, context)).toBe('{"walletEvents":{}}');
  });

  it('has no plan for variables that do not coerce, nor for an operation that is not a subscription', () => {
    expect(ResultPlan.compile(args(EVERYTHING, { withBalance: 'yes' }))).toBeNull();
    expect(ResultPlan.compile(args(`query { serverTime }`))).toBeNull();
  });
});

describe('the variables that shape a result', () => {
  it('leave out what only chooses the events, so resuming subscribers share results', () => {
    expect(shapingVariables(args(EVERYTHING))).toEqual(['noTx', 'withBalance']);
    expect(shapingVariables(args(`subscription($after: String, $w: ID) { balanceChanged(after: $after, walletId: $w) { sequence } }`))).toEqual([]);
  });

  it('are every variable when the operation is not one the rule knows', () => {
    expect(shapingVariables(args(`subscription($a: String) { ...Root } fragment Root on Subscription { walletEvents(after: $a) { eventId } }`))).toBeNull();
    expect(shapingVariables(args(`query { serverTime }`))).toBeNull();
  });
});
