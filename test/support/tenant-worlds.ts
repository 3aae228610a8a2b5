/** Tenants for the isolation tests: a world per tenant, every call that crosses into one, and a way to make it. */
import { codes, gql, subscribeWs, wsClient } from './clients.ts';
import { ownerId, producer, type Producer } from './ledger-ops.ts';
import type { RunningServer } from './server.ts';
import { tenantToken } from './tokens.ts';

/** One tenant's world: a service token, an owner with a wallet, a transaction, an event. */
export interface World {
  tenant: string;
  serviceToken: string;
  ops: Producer;
  owner: string;
  walletId: string;
  transactionId: string;
  eventId: string;
}

/** A call that names the other tenant's things; `kind` says how it is sent. */
export interface Call {
  name: string;
  kind: 'http' | 'ws';
  query: string;
  variables: Record<string, unknown>;
}

/** Every operation that names an owner, a wallet, a transaction or an event, aimed at `target`. */
export function crossingCalls(target: World): Call[] {
  const { owner, walletId, transactionId, eventId } = target;
  const http = (name: string, query: string, variables: Record<string, unknown> = {}): Call => ({ name, kind: 'http', query, variables });
  const ws = (name: string, query: string, variables: Record<string, unknown> = {}): Call => ({ name, kind: 'ws', query, variables });
  return [
    http('wallet', 'query($id: ID!) { wallet(id: $id) { id } }', { id: walletId }),
    http('wallets', 'query($o: ID) { wallets(ownerId: $o) { id } }', { o: owner }),
    http('transaction', 'query($id: ID!) { transaction(id: $id) { id } }', { id: transactionId }),
    http('transactions', 'query($w: ID!) { transactions(walletId: $w) { edges { cursor } } }', { w: walletId }),
    http('events by owner', 'query($o: ID) { events(ownerId: $o) { edges { cursor } } }', { o: owner }),
    http('events by wallet', 'query($w: ID) { events(walletId: $w) { edges { cursor } } }', { w: walletId }),
    http('subscriptionPreferences', 'query($o: ID) { subscriptionPreferences(consumer: "c", ownerId: $o) { consumer } }', { o: owner }),
    http('createWallet', 'mutation($o: ID!) { createWallet(input: { ownerId: $o, currency: "NGN" }) { id } }', { o: owner }),
    http('postTransaction', 'mutation($w: ID!) { postTransaction(input: { walletId: $w, direction: CREDIT, type: DEPOSIT, amount: "5", status: SUCCESS, idempotencyKey: "x" }) { replayed } }', { w: walletId }),
    http('postTransactions', 'mutation($w: ID!) { postTransactions(inputs: [{ walletId: $w, direction: CREDIT, type: DEPOSIT, amount: "5", idempotencyKey: "y" }]) { replayed } }', { w: walletId }),
    http('settleTransaction', 'mutation($id: ID!) { settleTransaction(id: $id, status: FAILED) { id } }', { id: transactionId }),
    http('reverseTransaction', 'mutation($id: ID!) { reverseTransaction(id: $id, reason: "r") { id } }', { id: transactionId }),
    http('freezeWallet', 'mutation($id: ID!) { freezeWallet(id: $id, reason: "r") { id } }', { id: walletId }),
    http('unfreezeWallet', 'mutation($id: ID!) { unfreezeWallet(id: $id) { id } }', { id: walletId }),
    http('closeWallet', 'mutation($id: ID!) { closeWallet(id: $id, reason: "r") { id } }', { id: walletId }),
    http('ackEvent', 'mutation($e: ID!) { ackEvent(eventId: $e, consumer: "c") { sequence } }', { e: eventId }),
    http('updateSubscriptionPreferences', 'mutation($o: ID) { updateSubscriptionPreferences(consumer: "c", ownerId: $o, input: { types: [BALANCE] }) { consumer } }', { o: owner }),
    http('flagTransaction', 'mutation($id: ID!) { flagTransaction(transactionId: $id, score: 90, reason: "r") { id } }', { id: transactionId }),
    http('createAlertRule', 'mutation($w: ID!) { createAlertRule(input: { walletId: $w, kind: BALANCE_BELOW, threshold: "10" }) { id } }', { w: walletId }),
    http('alertRules', 'query($o: ID) { alertRules(ownerId: $o) { id } }', { o: owner }),
    http('notifications', 'query($o: ID) { notifications(ownerId: $o) { edges { cursor } } }', { o: owner }),
    http('unreadNotificationCount', 'query($o: ID) { unreadNotificationCount(ownerId: $o) }', { o: owner }),
    http('markNotificationsRead', 'mutation($o: ID) { markNotificationsRead(ids: [], ownerId: $o) { unreadCount } }', { o: owner }),
    http('markAllNotificationsRead', 'mutation($o: ID) { markAllNotificationsRead(ownerId: $o) { unreadCount } }', { o: owner }),
    http('revokeAccess', 'mutation($o: ID!) { revokeAccess(ownerId: $o) { revoked } }', { o: owner }),
    ws('walletEvents by owner', 'subscription($o: ID) { walletEvents(ownerId: $o) { sequence } }', { o: owner }),
    ws('walletEvents by wallet', 'subscription($w: ID) { walletEvents(walletId: $w) { sequence } }', { w: walletId }),
    ws('transactionUpdated', 'subscription($w: ID) { transactionUpdated(walletId: $w) { sequence } }', { w: walletId }),
    ws('balanceChanged', 'subscription($o: ID) { balanceChanged(ownerId: $o) { sequence } }', { o: owner }),
    ws('walletStatus', 'subscription($o: ID) { walletStatus(ownerId: $o, consumer: "c") { sequence } }', { o: owner }),
    http('feed of another tenant', 'query($t: String) { feed(tenant: $t) { edges { cursor } } }', { t: target.tenant }),
    ws('feed subscription of another tenant', 'subscription($t: String) { feed(tenant: $t) { sequence } }', { t: target.tenant }),
  ];
}

/** A new world for `tenant` on `server`. */
export async function world(server: RunningServer, tenant: string): Promise<World> {
  const serviceToken = await tenantToken(`${tenant}-ops`, tenant);
  const ops = producer(server.url, serviceToken);
  const owner = ownerId(tenant);
  const wallet = await ops.createWallet(owner);
  const txn = await ops.post({ walletId: wallet.id, direction: 'CREDIT', amount: '100', status: 'PENDING' });
  const eventId = (await ops.log(owner)).at(-1).eventId as string;
  return { tenant, serviceToken, ops, owner, walletId: wallet.id, transactionId: txn.id, eventId };
}

/** The refusal codes of `call` made with `bearer` (an HTTP request, or a graphql-ws subscription). */
export async function attempt(server: RunningServer, call: Call, bearer: string): Promise<(string | undefined)[]> {
  if (call.kind === 'http') return codes(await gql(server.url, bearer, call.query, call.variables));
  const client = wsClient(server.wsUrl, bearer);
  try {
    const sub = subscribeWs(client, call.query, call.variables);
    // A refusal ends the stream as soon as the server has checked the call, so a refused
    // call costs only that wait; a stream still open after ten seconds was let through.
    // (One second was too short: twenty calls at once on a busy 2-core machine took longer.)
    const ended = await Promise.race([sub.ended.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 10_000, false))]);
    if (!ended) return ['ACCEPTED'];
    return (sub.errors.flat() as { extensions?: { code?: string } }[]).map((error) => error.extensions?.code);
  } finally {
    await client.dispose();
  }
}

/** What a crossing could change: the log, the wallet, the transaction. */
export async function stateOf(w: World) {
  return { log: (await w.ops.log(w.owner)).map((e) => e.eventId), wallet: await w.ops.wallet(w.walletId) };
}
