/**
 * A real Redis Cluster on loopback for a test: six `redis-server` processes (three
 * masters, three replicas) made one cluster by `redis-cli --cluster create`, each in a
 * directory of its own, killed and removed at the end.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './server.ts';
import { tracked } from './processes.ts';

const run = promisify(execFile);

/** True when this machine has the Redis binaries the cluster needs. */
export const redisServerInstalled = existsSync('/usr/bin/redis-server') && existsSync('/usr/bin/redis-cli');

export interface ClusterNode {
  port: number;
  process: ChildProcess;
  /** A plain connection to this node (for PUBSUB and CLUSTER commands). */
  client(): Redis;
}

export interface LocalCluster {
  nodes: ClusterNode[];
  /** `127.0.0.1:port,…` for REDIS_CLUSTER_NODES. */
  seeds: string;
  /** The nodes that are masters now. */
  masters(): Promise<ClusterNode[]>;
  /**
   * Reshards: moves the slot of `channel` from the master that owns it to another live
   * master (the slot holds no keys, so nothing needs migrating). Returns the new owner.
   */
  moveSlotOf(channel: string): Promise<ClusterNode>;
  stop(): Promise<void>;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts six nodes on free loopback ports and joins them into a cluster with one replica per master. */
export async function startCluster(nodeTimeoutMs = 1_000): Promise<LocalCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'we-redis-cluster-'));
  const clients: Redis[] = [];
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const child = tracked(spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs), '--save', '', '--appendonly', 'no', '--dir', dir,
        // Replicas sync at once, in memory, and may always take over (a test kills masters right after creation).
        '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--cluster-replica-validity-factor', '0'],
      { stdio: 'ignore' },
    ));
    nodes.push({
      port,
      process: child,
      client() {
        const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
        client.on('error', () => {});
        clients.push(client);
        return client;
      },
    });
  }
  for (const node of nodes) await until(async () => (await run('redis-cli', ['-p', String(node.port), 'ping'])).stdout.includes('PONG'), 10_000, `node ${node.port} start`);
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  const stateOk = async (port: number) => (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok');
  for (const node of nodes) await until(() => stateOk(node.port), 20_000, `cluster state ok on ${node.port}`);
  // Every replica has its master's data before anything relies on a failover.
  const synced = async (port: number) => {
    const info = (await run('redis-cli', ['-p', String(port), 'info', 'replication'])).stdout;
    return info.includes('role:master') || info.includes('master_link_status:up');
  };
  for (const node of nodes) await until(() => synced(node.port), 20_000, `replication link up on ${node.port}`);
  const cluster: LocalCluster = {
    nodes,
    seeds: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    async masters() {
      const alive = nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null);
      const roles = await Promise.all(alive.map(async (node) => (await run('redis-cli', ['-p', String(node.port), 'role'])).stdout.split('\n')[0]!.trim()));
      return alive.filter((_, i) => roles[i] === 'master');
    },
    async moveSlotOf(channel) {
      const live = await cluster.masters();
      const cli = async (node: ClusterNode, ...args: string[]) => (await run('redis-cli', ['-p', String(node.port), ...args])).stdout.trim();
      const slot = Number(await cli(live[0]!, 'cluster', 'keyslot', channel));
      // CLUSTER NODES: id, address, flags, …, then the slot ranges the node serves.
      const lines = (await cli(live[0]!, 'cluster', 'nodes')).split('\n').map((line) => line.split(' '));
      const serves = (fields: string[]) =>
        fields.slice(8).some((range) => {
          const [low, high] = range.split('-').map(Number);
          return slot >= low! && slot <= (high ?? low)!;
        });
      const idOf = (node: ClusterNode) => lines.find((fields) => fields[1]!.startsWith(`127.0.0.1:${node.port}@`))![0]!;
      const from = live.find((node) => serves(lines.find((fields) => fields[0] === idOf(node))!))!;
      const to = live.find((node) => node !== from)!;
      await cli(to, 'cluster', 'setslot', String(slot), 'importing', idOf(from));
      await cli(from, 'cluster', 'setslot', String(slot), 'migrating', idOf(to));
      for (const node of live) await cli(node, 'cluster', 'setslot', String(slot), 'node', idOf(to));
      return to;
    },
    async stop() {
      for (const client of clients) client.disconnect();
      for (const node of nodes) node.process.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
