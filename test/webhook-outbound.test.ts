/**
 * Outbound safety end to end, on loopback only: with private networks
 * not allowed, endpoints aimed at this machine are refused however the address is
 * written, and one stored while they were allowed is refused again when its connection is
 * made: the receiver gets nothing, and the delivery records why.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codes, gql, gqlData, waitUntil } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { tenantToken } from './support/tokens.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;

describe('outbound safety', () => {
  let receiver: Receiver;
  let dataDir: string;
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop().catch(() => {});
    await receiver?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses loopback in every spelling while private networks are off, and sends nothing', async () => {
    receiver = await startReceiver();
    dataDir = await mkdtemp(join(tmpdir(), 'we-outbound-'));
    const server = await startServer({ DATA_DIR: dataDir, WEBHOOK_ALLOW_HTTP: 'true' });
    servers.push(server);
    const bearer = await tenantToken('guarded', 'guarded');
    const port = receiver.port;
    for (const url of [
      `http://127.0.0.1:${port}/hooks`,
      `http://127.1:${port}/hooks`,
      `http://0x7f000001:${port}/hooks`,
      `http://[::1]:${port}/hooks`,
      `http://[::ffff:127.0.0.1]:${port}/hooks`,
      `http://localhost:${port}/hooks`,
    ]) {
      const res = await gql(server.url, bearer, CREATE, { input: { url } });
      expect(codes(res), url).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions).toMatchObject({ field: 'url', reason: 'outbound-refused' });
      expect(res.errors![0]!.message).toMatch(/loopback/);
    }
    expect((await gqlData(server.url, bearer, `{ webhookEndpoints { id } }`)).webhookEndpoints).toEqual([]);
    await server.stop();
    servers.pop();
  });

  it('refuses plain http unless it is allowed', async () => {
    const server = await startServer({ DATA_DIR: 'memory://', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    servers.push(server);
    const res = await gql(server.url, await tenantToken('guarded', 'guarded'), CREATE, { input: { url: `http://127.0.0.1:${receiver.port}/hooks` } });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.message).toMatch(/https:\/\/.*WEBHOOK_ALLOW_HTTP/);
  });

  it('checks again at connect time: an endpoint stored while allowed is not reached once private networks are off', async () => {
    const bearer = await tenantToken('guarded', 'guarded');
    const open = await startServer({ DATA_DIR: dataDir, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_LEASE_TTL: '1s' });
    const created = await gqlData(open.url, bearer, CREATE, { input: { url: `http://localhost:${receiver.port}/hooks` } });
    const endpointId = created.createWebhookEndpoint.endpoint.id;
    await open.stop();
    const strict = await startServer({ DATA_DIR: dataDir, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_RETRY_SCHEDULE: '10s', HEAD_CHECK_INTERVAL: '100ms' });
    servers.push(strict);
    await producer(strict.url, bearer).createWallet(ownerId('guarded'));
    const failed = async () =>
      (await gqlData(strict.url, bearer, `query($id: ID!) { webhookDeliveries(endpointId: $id) { edges { node { status attempts lastStatus lastError } } } }`, { id: endpointId })).webhookDeliveries.edges;
    await waitUntil(async () => (await failed()).length === 1, 15_000);
    const [edge] = await failed();
    expect(edge.node).toMatchObject({ status: 'RETRYING', attempts: 1, lastStatus: null });
    expect(edge.node.lastError).toMatch(/a loopback address \(WEBHOOK_ALLOW_PRIVATE_NETWORKS is off\)/);
    expect(receiver.requests).toHaveLength(0);
    expect(receiver.unverified).toBe(0);
  });
});
