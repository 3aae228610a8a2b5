/**
 * Bad input: malformed GraphQL, wrong types,
 * negative or non-integer amounts, unknown wallets — each gets a clear error with an
 * `extensions.code`, and none of them changes anything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label } from './support/backends.ts';
import { serverOn } from './support/fixture.ts';
import { codes, gql, subscribeWs, wsClient } from './support/clients.ts';
import { ownerId } from './support/ledger-ops.ts';
import { token } from './support/tokens.ts';

const POST = 'mutation($input: PostTransactionInput!) { postTransaction(input: $input) { transaction { id } } }';

describe.each(BACKENDS)('bad input on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);
    let owner: string;
    let walletId: string;

    beforeAll(async () => {
      owner = ownerId('input');
      walletId = (await t.ops.createWallet(owner)).id;
      await t.ops.post({ walletId, direction: 'CREDIT', amount: '1000', status: 'SUCCESS' });
    });

    const state = async () => ({ wallet: await t.ops.wallet(walletId), log: await t.ops.log(owner) });
    const valid = () => ({ walletId, direction: 'DEBIT', type: 'PAYMENT', amount: '10', idempotencyKey: `k-${Math.random()}` });

    const cases: [string, () => Record<string, unknown>, string][] = [
      ['a negative amount', () => ({ ...valid(), amount: '-5' }), 'BAD_USER_INPUT'],
      ['a zero amount', () => ({ ...valid(), amount: 0 }), 'BAD_USER_INPUT'],
      ['a fractional amount (string)', () => ({ ...valid(), amount: '10.5' }), 'BAD_USER_INPUT'],
      ['a fractional amount (number)', () => ({ ...valid(), amount: 10.5 }), 'BAD_USER_INPUT'],
      ['an exponent', () => ({ ...valid(), amount: '1e3' }), 'BAD_USER_INPUT'],
      ['an unsafe integer given as a number', () => ({ ...valid(), amount: 2 ** 60 }), 'BAD_USER_INPUT'],
      ['an amount beyond int8', () => ({ ...valid(), amount: '99999999999999999999' }), 'BAD_USER_INPUT'],
      ['an amount as a boolean', () => ({ ...valid(), amount: true }), 'BAD_USER_INPUT'],
      ['an unknown direction', () => ({ ...valid(), direction: 'SIDEWAYS' }), 'BAD_USER_INPUT'],
      ['a missing idempotency key', () => ({ ...valid(), idempotencyKey: undefined }), 'BAD_USER_INPUT'],
      ['a blank idempotency key', () => ({ ...valid(), idempotencyKey: '   ' }), 'BAD_USER_INPUT'],
      ['an oversized description', () => ({ ...valid(), description: 'x'.repeat(257) }), 'BAD_USER_INPUT'],
      ['a control character in the counterparty', () => ({ ...valid(), counterparty: 'bob\u0000' }), 'BAD_USER_INPUT'],
      ['an unknown wallet', () => ({ ...valid(), walletId: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND'],
      ['a wallet id that is not a UUID', () => ({ ...valid(), walletId: 'nope' }), 'NOT_FOUND'],
      ['an unknown field', () => ({ ...valid(), colour: 'red' }), 'BAD_USER_INPUT'],
    ];

    it.each(cases)('refuses a post with %s and changes nothing', async (_name, input, code) => {
      const before = await state();
      const res = await gql(t.server.url, t.serviceToken, POST, { input: input() });
      expect(codes(res)).toEqual([code]);
      expect(res.errors![0]!.message.length).toBeGreaterThan(10);
      expect(await state()).toEqual(before);
    });

    it('answers malformed GraphQL with GRAPHQL_PARSE_FAILED', async () => {
      const res = await gql(t.server.url, t.serviceToken, 'mutation { postTransaction(input: { ');
      expect(codes(res)).toEqual(['GRAPHQL_PARSE_FAILED']);
    });

    it('answers unknown fields and wrong literal types with GRAPHQL_VALIDATION_FAILED', async () => {
      expect(codes(await gql(t.server.url, t.serviceToken, '{ wallets(ownerId: "x") { id colour } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const literal = await gql(t.server.url, t.serviceToken, `mutation { createWallet(input: { ownerId: 42, currency: NGN }) { id } }`);
      expect(codes(literal).every((c) => c === 'GRAPHQL_VALIDATION_FAILED')).toBe(true);
      expect(codes(literal).length).toBeGreaterThan(0);
    });

    it('refuses bad wallet input, unknown ids and bad page sizes', async () => {
      const before = await state();
      expect(codes(await t.ops.createWalletRaw(owner, 'naira'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await t.ops.createWalletRaw('', 'NGN'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await t.ops.settleRaw('00000000-0000-4000-8000-000000000000', 'SUCCESS'))).toEqual(['NOT_FOUND']);
      expect(codes(await t.ops.freezeRaw('not-a-uuid'))).toEqual(['NOT_FOUND']);
      expect(codes(await t.ops.freezeRaw(walletId, ''))).toEqual(['BAD_USER_INPUT']);
      const userToken = await token(owner);
      expect(codes(await gql(t.server.url, userToken, 'query($w: ID!) { transactions(walletId: $w, first: 0) { edges { cursor } } }', { w: walletId }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, userToken, 'query($w: ID!) { transactions(walletId: $w, first: 100000) { edges { cursor } } }', { w: walletId }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, userToken, 'query { events(after: "garbage") { edges { cursor } } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, userToken, 'query { events(last: 0) { edges { cursor } } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, userToken, 'query { events(last: 100000) { edges { cursor } } }'))).toEqual(['BAD_USER_INPUT']);
      const { endCursor } = (await gql(t.server.url, userToken, 'query { events(last: 1) { pageInfo { endCursor } } }')).data!.events.pageInfo;
      const both = await gql(t.server.url, userToken, 'query($c: String) { events(last: 1, after: $c) { edges { cursor } } }', { c: endCursor });
      expect(codes(both)).toEqual(['BAD_USER_INPUT']);
      expect(both.errors![0]!.message).toMatch(/cannot be combined with after/);
      expect(codes(await gql(t.server.url, userToken, 'query($w: ID!) { transactions(walletId: $w, after: "zzz") { edges { cursor } } }', { w: walletId }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await gql(t.server.url, t.serviceToken, '{ wallets { id } }'))).toEqual(['BAD_USER_INPUT']); // a service must name the owner
      expect(await state()).toEqual(before);
    });

    it('refuses bad subscription arguments with a code over graphql-ws', async () => {
      const client = wsClient(t.server.wsUrl, await token(owner));
      const cases: [string, Record<string, unknown>][] = [
        ['subscription($min: Money, $max: Money) { transactionUpdated(minAmount: $min, maxAmount: $max) { eventId } }', { min: '500', max: '100' }],
        ['subscription($min: Money) { transactionUpdated(minAmount: $min) { eventId } }', { min: '-1' }],
        ['subscription($c: String) { balanceChanged(currency: $c) { eventId } }', { c: 'dollars' }],
        ['subscription($w: ID) { walletStatus(walletId: $w) { eventId } }', { w: '00000000-0000-4000-8000-000000000000' }],
        ['subscription { walletEvents(types: [NOPE]) { eventId } }', {}],
      ];
      const expected = ['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED'];
      const got: string[] = [];
      for (const [query, variables] of cases) {
        const sub = subscribeWs(client, query, variables);
        await sub.ended;
        got.push((sub.errors[0] as any[])[0].extensions.code);
      }
      expect(got).toEqual(expected);
      await client.dispose();
    });
  });
});
