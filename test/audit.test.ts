/**
 * Production mode as an operator sees it: internal errors
 * are masked — no stack, SQL or internal message reaches the client, which gets an
 * errorId that the JSON log pairs with the real error — and the audit log has a line for
 * each connection step, authentication failure, limit refusal and revocation.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, label, prepareBackend, type BackendEnv } from './support/backends.ts';
import { codes, gql, subscribeWs, waitUntil, wsClient } from './support/clients.ts';
import { ownerId, producer } from './support/ledger-ops.ts';
import { freePort, logLines, spawnServer, type ServerProcess } from './support/server.ts';
import { token } from './support/tokens.ts';

const postgresBackend = BACKENDS.find((b) => b.name === 'postgres')!;

describe(`production mode on ${label(postgresBackend)}`, () => {
  describe.skipIf(!postgresBackend.available)('postgres + redis', () => {
    let env: BackendEnv;
    let server: ServerProcess;

    beforeAll(async () => {
      env = await prepareBackend(postgresBackend);
      server = await spawnServer({ ...env.env, NODE_ENV: 'production', LOG_LEVEL: 'info', MUTATION_RATE_LIMIT: '3' }, await freePort());
    });
    afterAll(async () => {
      await server?.kill('SIGTERM');
      await env?.dispose();
    });

    it('masks internal errors and pairs them with the log through an errorId', async () => {
      const owner = ownerId('masked');
      const userToken = await token(owner);
      const sql = postgres(env.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      await sql`alter table wallets rename to wallets_gone`; // a real fault under the server
      let res;
      try {
        res = await gql(server.url, userToken, '{ wallets { id } }');
      } finally {
        await sql`alter table wallets_gone rename to wallets`;
        await sql.end();
      }
      expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
      const body = JSON.stringify(res);
      expect(body).not.toMatch(/wallets_gone|relation|does not exist|select|at \S+\.ts|stack/i);
      const errorId = res.errors![0]!.extensions!.errorId as string;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
      await waitUntil(() => logLines(server).some((line) => line.errorId === errorId));
      const logged = logLines(server).find((line) => line.errorId === errorId)!;
      expect(logged).toMatchObject({ level: 'error', msg: 'internal error' });
      expect((logged.error as { cause: { message: string } }).cause.message).toBe('relation "wallets" does not exist');
      // And the server goes on once the fault is gone.
      expect((await gql(server.url, userToken, '{ wallets { id } }')).data).toEqual({ wallets: [] });
    });

    it('never writes a token into the log, whichever way it came', async () => {
      const good = await token(ownerId('quiet'));
      const expired = await token(ownerId('quiet'), 'user', -60);
      for (const bearer of [good, expired, 'not-a-jwt-but-secret-looking']) {
        await gql(server.url, bearer, '{ me { id } }');
        const sse = await fetch(`${server.url}?query=${encodeURIComponent('subscription { walletEvents { eventId } }')}&token=${bearer}`, { headers: { accept: 'text/event-stream' } });
        await sse.body?.cancel();
        const client = wsClient(server.wsUrl, bearer);
        const sub = subscribeWs(client, 'subscription { walletEvents { eventId } }');
        await Promise.race([sub.ended, new Promise((resolve) => setTimeout(resolve, 300))]);
        await client.dispose();
      }
      await waitUntil(() => logLines(server).some((line) => line.msg === 'authentication failed'));
      const output = server.output();
      for (const secret of [good, expired, 'not-a-jwt-but-secret-looking']) expect(output).not.toContain(secret.split('.').at(-1));
    });

    it('writes audit lines for the connection lifecycle, auth failures, limit refusals and revocations', async () => {
      const owner = ownerId('audited');
      const client = wsClient(server.wsUrl, await token(owner));
      const sub = subscribeWs(client, 'subscription Feed { walletEvents { eventId } }');
      await waitUntil(() => logLines(server).some((l) => l.msg === 'subscribed' && l.subject === owner));
      sub.dispose();
      await client.dispose();
      await waitUntil(() => logLines(server).some((l) => l.msg === 'connection closed' && l.subject === owner));

      await gql(server.url, 'not-a-token', '{ me { id } }');
      const bad = subscribeWs(wsClient(server.wsUrl, 'not-a-token'), 'subscription { walletEvents { eventId } }');
      await bad.ended;
      const ops = producer(server.url, await token('audit-producer', 'service'));
      for (let i = 0; i < 4; i++) await ops.createWalletRaw(owner);
      await gql(server.url, await token('security', 'admin'), 'mutation($o: ID!) { revokeAccess(ownerId: $o) { revoked } }', { o: owner });

      await waitUntil(() => logLines(server).some((l) => l.msg === 'access revoked'));
      const lines = logLines(server);
      const has = (match: Record<string, unknown>) => lines.some((line) => Object.entries(match).every(([k, v]) => line[k] === v));
      const expected = [
        { msg: 'connection opened', transport: 'ws' },
        { msg: 'connection authenticated', subject: owner, role: 'user' },
        { msg: 'subscribed', subject: owner, operationName: 'Feed' },
        { msg: 'connection closed', subject: owner, code: 1000 },
        { msg: 'authentication failed', transport: 'http', reason: 'invalid' },
        { msg: 'authentication failed', transport: 'ws', code: 'invalid' },
        { msg: 'mutation refused', reason: 'rate limit', subject: 'audit-producer' },
        { msg: 'access revoked', subject: owner },
      ];
      expect(expected.filter((line) => !has(line)), JSON.stringify(lines.slice(-30))).toEqual([]);
      for (const line of lines) expect(typeof line.time).toBe('string');
      // One socket's lines share its number, from opened to closed.
      const authenticated = lines.find((line) => line.msg === 'connection authenticated' && line.subject === owner)!;
      const socketLines = lines.filter((line) => line.transport === 'ws' && line.connection === authenticated.connection).map((line) => line.msg);
      expect(socketLines).toEqual(['connection opened', 'connection authenticated', 'subscribed', 'connection closed']);
    });
  });
});
