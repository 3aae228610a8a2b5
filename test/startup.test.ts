/**
 * Start-up as an operator sees it: configuration errors stop the process with a message
 * naming the variable; production refuses to run without a JWT key; the development
 * secret is generated, kept in DATA_DIR and shared with `npm run token`; /health and
 * /ready answer.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { gql, waitUntil } from './support/clients.ts';
import { freePort, SERVER_ENTRY, spawnServer, startServer } from './support/server.ts';
import { TEST_SECRET } from './support/tokens.ts';
import { RUN_MARKER, tracked } from './support/processes.ts';

const run = promisify(execFile);

/** Runs the server entry point with `env` (and no inherited settings) until it exits. */
function startAndCollect(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = tracked(spawn(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH!, [RUN_MARKER]: process.env[RUN_MARKER], ...env } }));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'x'.repeat(40), JWT_ALGORITHM: 'RS256' }, 'JWT_ALGORITHM'],
    [{ JWT_SECRET: 'x'.repeat(40), JWT_JWKS_URL: 'https://auth.example/jwks.json' }, 'JWT_SECRET'],
    [{ JWT_JWKS_URL: 'ftp://auth.example/jwks.json' }, 'JWT_JWKS_URL'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ WS_PING_INTERVAL_MS: '10' }, 'WS_PING_INTERVAL_MS'],
    [{ EVENT_RETENTION: 'a week' }, 'EVENT_RETENTION'],
    [{ ACK_TIMEOUT: '-5s' }, 'ACK_TIMEOUT'],
    [{ ALLOWED_ORIGINS: 'https://app.example.com/path' }, 'ALLOWED_ORIGINS'],
    [{ MAX_SUBSCRIPTIONS_PER_CONNECTION: '0' }, 'MAX_SUBSCRIPTIONS_PER_CONNECTION'],
    [{ DATABASE_REPLICA_URLS: 'postgres://127.0.0.1:5433/db' }, 'DATABASE_REPLICA_URLS'],
    [{ DATABASE_URL: 'postgres://127.0.0.1/db', DATABASE_REPLICA_URLS: 'postgres://127.0.0.1:5433/db,,' }, 'DATABASE_REPLICA_URLS'],
    [{ DATABASE_URL: 'postgres://127.0.0.1/db', DATABASE_REPLICA_URLS: 'mysql://127.0.0.1/db' }, 'DATABASE_REPLICA_URLS'],
    [{ EVENT_PARTITION_INTERVAL: '1s', EVENT_PARTITIONS_AHEAD: '1', PRUNE_INTERVAL: '5s' }, 'PRUNE_INTERVAL'],
  ])('refuses %o, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: '0.0.0.0', dataDir: '.data', databaseUrl: null, redisUrl: null, wsPingIntervalMs: 30_000, logLevel: 'info' });
    expect(config.auth).toMatchObject({ algorithm: 'HS256', secret: null });
    expect(config.limits).toEqual({
      subscriptionsPerConnection: 20,
      connectionsPerOwner: 10,
      connectionsPerInstance: 50_000,
      wsMaxMessageBytes: 65_536,
      maxRequestBytes: 1_048_576,
      connectionInitTimeoutMs: 5_000,
      httpKeepAliveTimeoutMs: 65_000,
      idleTimeoutMs: 300_000,
      tokenClockSkewMs: 5_000,
      mutationsPerSecond: 1_000,
      maxBatchSize: 500,
      maxQueryDepth: 10,
      maxAliases: 15,
      maxQueryCost: 1_000_000,
      maxQueryTokens: 2_000,
      maxDirectives: 20,
      maxListItems: 1_000,
      allowedOrigins: '*',
      consumersPerOwner: 100,
      maxUnackedEvents: 10_000,
      groupCommitQueueLimit: 10_000,
      address: { connectsPerSecond: 50, maxConnections: 1_000, authFailures: 20, authFailureWindowMs: 60_000, authCooldownMs: 300_000, trustedProxies: [] },
    });
    expect(config).toMatchObject({ retentionMs: 7 * 86_400_000, headCheckIntervalMs: 1_000, ackTimeoutMs: 0, sseRetryMs: 2_000 });
    expect(config).toMatchObject({
      revocationReloadIntervalMs: 10_000,
      idempotencyKeyRetentionMs: 7 * 86_400_000,
      consumerRetentionMs: 30 * 86_400_000,
      backboneMaxMessageBytes: 4 * 1024 * 1024,
      feedRingBytes: 256 * 1024,
      feedRingTotalBytes: 64 * 1024 * 1024,
      backboneAttachTimeoutMs: 1_000,
    });
    expect(config.auth.maxTokenAgeMs / 1000).toBe(86_400);
  });

  it('reads the Redis Cluster, webhook, compression and per-address settings, and refuses malformed ones by name', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, [::1]:7001,redis-b:6379' }).redisClusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '::1', port: 7001 },
      { host: 'redis-b', port: 6379 },
    ]);
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1s,1m,2h' }).webhooks.retryScheduleMs).toEqual([1_000, 60_000, 7_200_000]);
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' }).limits.address.trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(loadConfig({}).wsCompression.enabled).toBe(false);
    expect(loadConfig({ WS_COMPRESSION: 'on' }).wsCompression).toEqual({ enabled: true, thresholdBytes: 256, level: 1, memLevel: 4, windowBits: 11 });
    const refusals: [Record<string, string>, RegExp][] = [
      [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, /REDIS_CLUSTER_NODES: "127.0.0.1" is not host:port/],
      [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_URL: 'redis://127.0.0.1:6379' }, /REDIS_CLUSTER_NODES: set either REDIS_URL/],
      [{ WEBHOOK_RETRY_SCHEDULE: '5s,soon' }, /WEBHOOK_RETRY_SCHEDULE: must be a duration/],
      [{ WEBHOOK_ALLOW_HTTP: 'sometimes' }, /WEBHOOK_ALLOW_HTTP: must be true or false/],
      [{ TRUSTED_PROXIES: 'proxy.internal' }, /TRUSTED_PROXIES: "proxy.internal" is not an IP address/],
      [{ ADDRESS_CONNECTION_RATE: '-1' }, /ADDRESS_CONNECTION_RATE: must be a whole number/],
    ];
    for (const [env, message] of refusals) expect(() => loadConfig(env)).toThrow(message);
  });

  it('stops the process with the variable named when a setting is bad', async () => {
    const { code, output } = await startAndCollect({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(output).toContain('configuration error: PORT');
  });

  it('refuses to start in production without a JWT key', async () => {
    const { code, output } = await startAndCollect({ NODE_ENV: 'production', DATA_DIR: 'memory://' });
    expect(code).toBe(1);
    expect(output).toMatch(/JWT_SECRET: NODE_ENV=production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
  });
});

describe('development secret', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('is generated once, kept in DATA_DIR, announced, and accepted from `npm run token`', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'we-dev-'));
    dirs.push(dataDir);
    const server = await spawnServer({ DATA_DIR: dataDir, JWT_SECRET: '' }, await freePort());
    try {
      expect(server.output()).toContain(`development secret kept in ${join(dataDir, 'dev-jwt-secret')}`);
      // The banner is written after the "listening" line the helper waits for, and may come in a later chunk.
      await waitUntil(() => server.output().includes('npm run token -- --sub alice --role user'), 10_000, () => server.output());
      expect(server.output()).toContain('npm run token -- --sub alice --role user');
      expect((await stat(join(dataDir, 'dev-jwt-secret'))).mode & 0o777).toBe(0o600);
      const { stdout } = await run(process.execPath, ['dist/auth/token-cli.js', '--sub', 'alice', '--role', 'user'], {
        env: { PATH: process.env.PATH!, DATA_DIR: dataDir },
      });
      const res = await gql(server.url, stdout.trim(), '{ me { id role } }');
      expect(res.data).toEqual({ me: { id: 'alice', role: 'user' } });
    } finally {
      expect(await server.kill('SIGTERM')).toBe(0);
    }
  });

  it('token command warns when --ttl outlives JWT_MAX_TOKEN_AGE, and still prints the token', async () => {
    const { stdout, stderr } = await run(process.execPath, ['dist/auth/token-cli.js', '--sub', 'alice', '--role', 'user', '--ttl', '7d'], {
      env: { PATH: process.env.PATH!, JWT_SECRET: TEST_SECRET, JWT_MAX_TOKEN_AGE: '24h' },
    });
    expect(stderr).toContain('longer than JWT_MAX_TOKEN_AGE');
    expect(stdout.trim().split('.')).toHaveLength(3);
  });

  it('token command mints a service token of a tenant, and refuses a tenant on other roles or one that is not a name', async () => {
    const env = { PATH: process.env.PATH!, JWT_SECRET: TEST_SECRET };
    const cli = (...args: string[]) => run(process.execPath, ['dist/auth/token-cli.js', ...args], { env });
    const { stdout } = await cli('--sub', 'acme-payouts', '--role', 'service', '--tenant', 'acme');
    const claims = JSON.parse(Buffer.from(stdout.trim().split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'acme-payouts', role: 'service', tenant: 'acme' });
    const forUser = await cli('--sub', 'alice', '--role', 'user', '--tenant', 'acme').catch((error) => error);
    expect(forUser.code).toBe(1);
    expect(forUser.stderr).toContain('--tenant applies to service tokens only');
    const badName = await cli('--sub', 'ops', '--role', 'service', '--tenant', 'acme corp').catch((error) => error);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('--tenant must be letters, digits');
  });

  it('token command explains bad arguments', async () => {
    const result = await run(process.execPath, ['dist/auth/token-cli.js', '--sub', 'alice', '--role', 'root'], {
      env: { PATH: process.env.PATH!, DATA_DIR: 'memory://' },
    }).catch((error) => error);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--role must be one of user, service, admin');
    const unknown = await run(process.execPath, ['dist/auth/token-cli.js', '--colour', 'red'], { env: { PATH: process.env.PATH!, DATA_DIR: 'memory://' } }).catch((error) => error);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--help explains each option');
  });

  it('token command has --help', async () => {
    const { stdout } = await run(process.execPath, ['dist/auth/token-cli.js', '--help'], { env: { PATH: process.env.PATH!, DATA_DIR: 'memory://' } });
    expect(stdout).toMatch(/^usage: npm run token/);
    for (const option of ['--sub', '--role', '--ttl', '--tenant']) expect(stdout).toContain(option);
  });
});

describe('health endpoints', () => {
  it('answers /health and /ready with the checks', async () => {
    const server = await startServer({ DATA_DIR: 'memory://' });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', pubsub: 'ok' } });
    } finally {
      await server.stop();
    }
  });

  it('answers /ready with 200 "degraded", naming the failed check, when Redis is unreachable (events still flow through the head check)', async () => {
    const server = await startServer({ DATA_DIR: 'memory://', REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const ready = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('degraded');
      expect(body.checks.database).toBe('ok');
      expect(body.checks.redis).toMatch(/^failed: /);
    } finally {
      await server.stop();
    }
  });
});
