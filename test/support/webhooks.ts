/** Webhook operations over the public API, for tests. */
import { gqlData } from './clients.ts';
import { ownerId, type Producer } from './ledger-ops.ts';

const ENDPOINT_FIELDS = 'id tenant url types state disabledReason consecutiveFailures pausedUntil cursor lagSeconds deadLetters previousSecretExpiresAt lease { holder expiresAt }';

/** Creates an endpoint; returns it with its secret. */
export async function createEndpoint(url: string, bearer: string, input: Record<string, unknown>) {
  const data = await gqlData(url, bearer, `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_FIELDS} } } }`, { input });
  return data.createWebhookEndpoint as { secret: string; endpoint: { id: string; state: string } };
}

/** The endpoint as the API shows it. */
export async function endpointState(url: string, bearer: string, id: string) {
  return (await gqlData(url, bearer, `query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id })).webhookEndpoint;
}

/** Every delivery of an endpoint (of `status`), paging through. */
export async function deliveries(url: string, bearer: string, endpointId: string, status: string | null = null) {
  const all: any[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = (
      await gqlData(url, bearer, `query($id: ID!, $status: WebhookDeliveryStatus, $after: String) { webhookDeliveries(endpointId: $id, status: $status, first: 500, after: $after) { edges { node { id eventId ownerId sequence status attempts lastStatus lastError responseExcerpt } } pageInfo { hasNextPage endCursor } } }`, {
        id: endpointId,
        status,
        after,
      })
    ).webhookDeliveries;
    all.push(...page.edges.map((edge: any) => edge.node));
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
}

/** Creates `owners` owners in `ops`'s tenant with a wallet each and posts `posts` transactions to each. */
export async function populate(ops: Producer, owners: number, posts: number, prefix = 'wh'): Promise<string[]> {
  const ids = Array.from({ length: owners }, () => ownerId(prefix));
  const wallets = await Promise.all(ids.map((id) => ops.createWallet(id)));
  for (let round = 0; round < posts; round++) {
    const res = await ops.postBatchRaw(wallets.map((wallet) => ({ walletId: wallet.id, direction: 'CREDIT', amount: 100 + round, status: 'SUCCESS' })));
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
  }
  return ids;
}

/** How many events `expected` (from {@link expectedSequences}) holds in all. */
export function eventCount(expected: Map<string, number[]>): number {
  return [...expected.values()].reduce((sum, list) => sum + list.length, 0);
}

/** Each owner's sequences, from its log: what the endpoint must deliver. */
export async function expectedSequences(ops: Producer, owners: string[]): Promise<Map<string, number[]>> {
  const expected = new Map<string, number[]>();
  for (const owner of owners) expected.set(owner, (await ops.log(owner)).map((event: { sequence: number }) => event.sequence));
  return expected;
}

