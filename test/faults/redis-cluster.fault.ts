/**
 * Redis Cluster as the backbone: a real local cluster of six
 * `redis-server` processes (three masters, three replicas), two instances on it and on
 * PostgreSQL. Owner topics travel on sharded pub/sub (SSUBSCRIBE: each channel on the
 * shard of its slot, none on classic pub/sub). A master holding subscribed channels is
 * killed (-9) mid-stream; once its replica is promoted the instances resubscribe there.
 * Then one owner's slot is resharded to another master, and the instances follow it.
 * Every subscriber receives every event of its owner once, in order. The periodic head
 * check is pushed out of the test's reach, so the events after the failover arrive through
 * the cluster (or the gap repair their sequence triggers), not through polling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, prepareBackend, type BackendEnv } from '../support/backends.ts';
import { subscribeWs, waitUntil, wsClient, type Collector } from '../support/clients.ts';
import { ownerId, producer } from '../support/ledger-ops.ts';
import { redisServerInstalled, startCluster, type LocalCluster } from '../support/redis-cluster.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { token } from '../support/tokens.ts';

const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;
const available = postgres.available && redisServerInstalled;
if (process.env.REQUIRE_SERVICES === '1' && !redisServerInstalled) throw new Error('REQUIRE_SERVICES=1 but redis-server and redis-cli are not installed: the Redis Cluster suite would be skipped');
const OWNERS = 12;

describe.skipIf(!available)(`Redis Cluster backbone${available ? '' : ' (SKIPPED: needs PostgreSQL and redis-server)'}`, () => {
  let cluster: LocalCluster;
  let backend: BackendEnv;
  const instances: RunningServer[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
    backend = await prepareBackend(postgres);
    const env = { DATABASE_URL: backend.env.DATABASE_URL!, PUBSUB_PREFIX: backend.env.PUBSUB_PREFIX!, REDIS_CLUSTER_NODES: cluster.seeds, REDIS_CLUSTER_SLOTS_REFRESH: '500ms', HEAD_CHECK_INTERVAL: '1h' };
    instances.push(await startServer(env), await startServer(env));
  }, 60_000);
  afterAll(async () => {
    for (const instance of instances) await instance.stop().catch(() => {});
    await backend?.dispose();
    await cluster?.stop();
  });

  it('delivers every event once, in order, across instances through a master’s death, its replica’s promotion and a resharding', async () => {
    const [a, b] = instances as [RunningServer, RunningServer];
    const bearer = await token('producer', 'service');
    const ops = producer(a.url, bearer);
    const owners = Array.from({ length: OWNERS }, () => ownerId('cluster'));
    const wallets = await Promise.all(owners.map((owner) => ops.createWallet(owner)));
    const client = wsClient(b.wsUrl, bearer);
    const streams: Collector<any>[] = owners.map((owner) => subscribeWs(client, `subscription($owner: ID) { walletEvents(ownerId: $owner) { eventId sequence } }`, { owner }));
    await waitUntil(() => b.app.stats().subscriptions >= OWNERS, 15_000);

    // The owner channels are sharded channels, spread over the masters, and none is a classic channel.
    const masters = await cluster.masters();
    const sharded = new Map<number, string[]>();
    for (const master of masters) sharded.set(master.port, ((await master.client().call('PUBSUB', 'SHARDCHANNELS', '*owner:*')) as string[]) ?? []);
    expect([...sharded.values()].flat().sort()).toEqual(owners.map((owner) => `${backend.env.PUBSUB_PREFIX}owner:${owner}`).sort());
    expect([...sharded.values()].filter((channels) => channels.length > 0).length).toBeGreaterThan(1);
    for (const master of masters) expect(await master.client().call('PUBSUB', 'CHANNELS', '*owner:*')).toEqual([]);

    const post = async (round: number) => {
      const res = await ops.postBatchRaw(wallets.map((wallet) => ({ walletId: wallet.id, direction: 'CREDIT', amount: 100 + round, status: 'SUCCESS' })));
      if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    };
    for (let round = 0; round < 5; round++) await post(round);

    // Kill the master holding the most subscribed channels; its replica takes over.
    const [victimPort] = [...sharded].sort((x, y) => y[1].length - x[1].length)[0]!;
    const victim = cluster.nodes.find((node) => node.port === victimPort)!;
    const orphaned = sharded.get(victimPort)!;
    victim.process.kill('SIGKILL');
    for (let round = 5; round < 25; round++) {
      await post(round);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The promoted replica now carries the dead master's channels: the instances resubscribed there.
    await waitUntil(async () => {
      const now = await cluster.masters();
      if (now.some((node) => node.port === victimPort)) return false;
      const channels = (await Promise.all(now.map((node) => node.client().call('PUBSUB', 'SHARDCHANNELS', '*owner:*') as Promise<string[]>))).flat();
      return orphaned.every((channel) => channels.includes(channel));
    }, 20_000, () => 'the dead master’s channels were not resubscribed on its replica');
    // And live publishes reach them again.
    for (let round = 25; round < 28; round++) await post(round);

    // Resharding: one owner's slot moves to another master; the instances follow it.
    const moved = `${backend.env.PUBSUB_PREFIX}owner:${owners[0]}`;
    const target = await cluster.moveSlotOf(moved);
    await waitUntil(async () => ((await target.client().call('PUBSUB', 'SHARDCHANNELS', moved)) as string[]).includes(moved), 15_000, () => 'not resubscribed where the slot moved');
    for (let round = 28; round < 31; round++) await post(round);

    const expected = await Promise.all(owners.map(async (owner) => (await ops.log(owner)).map((event: { eventId: string }) => event.eventId)));
    await waitUntil(() => streams.every((stream, i) => stream.items.length >= expected[i]!.length - 1), 30_000, () => streams.map((s) => s.items.length).join(','));
    streams.forEach((stream, i) => {
      // Subscribed after the wallet's creation event: everything from there on, once, in order.
      const ids = stream.items.map((item) => item.eventId);
      expect(ids).toEqual(expected[i]!.slice(expected[i]!.length - ids.length));
      expect(ids.length).toBe(expected[i]!.length - 1);
      expect(stream.errors).toEqual([]);
    });
    await client.dispose();
  }, 90_000);
});
