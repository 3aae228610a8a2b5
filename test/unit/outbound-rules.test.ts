/**
 * Where webhooks may go: the range classifier, the URL
 * rules and the connect-time lookup. Nothing here sends a packet: addresses are only
 * classified, and the lookup is given a resolver that answers from a table (or the local
 * hosts file, for `localhost`).
 */
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkUrl, checkUrlShape, guardedLookup, OutboundRefused, refusedRange } from '../../src/webhooks/address-rules.ts';
import { retryDelayMs } from '../../src/webhooks/retry-schedule.ts';
import { Signer, newSecret } from '../../src/webhooks/signing.ts';
import { Webhook } from 'standardwebhooks';

const STRICT = { allowHttp: false, allowPrivateNetworks: false };

describe('the range classifier', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'unique local (private)'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata)'],
    ['64:ff9b::10.0.0.1', 'private'],
  ])('refuses %s (%s)', (address, why) => {
    expect(refusedRange(address)).toBe(why);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.4.4'])('lets the public address %s through', (address) => {
    expect(refusedRange(address)).toBeNull();
  });
});

describe('webhook URLs', () => {
  it('takes https only unless http is allowed, and never credentials', () => {
    expect(checkUrlShape('https://hooks.example.com/x', STRICT).hostname).toBe('hooks.example.com');
    expect(() => checkUrlShape('http://hooks.example.com/x', STRICT)).toThrow(/WEBHOOK_ALLOW_HTTP/);
    expect(checkUrlShape('http://hooks.example.com/x', { ...STRICT, allowHttp: true }).protocol).toBe('http:');
    expect(() => checkUrlShape('ftp://hooks.example.com/x', { ...STRICT, allowHttp: true })).toThrow(OutboundRefused);
    expect(() => checkUrlShape('https://user:secret@hooks.example.com/x', STRICT)).toThrow(/credentials/);
    expect(() => checkUrlShape('hooks.example.com/x', STRICT)).toThrow(/absolute URL/);
  });

  it('refuses literal addresses in every spelling the URL parser accepts', () => {
    for (const url of ['https://127.0.0.1/', 'https://127.1/', 'https://0x7f000001/', 'https://2130706433/', 'https://[::1]/', 'https://[::ffff:127.0.0.1]/', 'https://169.254.169.254/latest/meta-data']) {
      expect(() => checkUrlShape(url, STRICT), url).toThrow(OutboundRefused);
    }
    expect(checkUrlShape('https://127.0.0.1/', { ...STRICT, allowPrivateNetworks: true }).hostname).toBe('127.0.0.1');
  });

  it('refuses a name that resolves to loopback (localhost, from the hosts file)', async () => {
    await expect(checkUrl('https://localhost:9/x', STRICT)).rejects.toThrow(/loopback/);
  });
});

describe('the connect-time lookup', () => {
  /** A resolver answering from a table, as DNS would (no network). */
  const table = (answers: Record<string, string[]>): LookupFunction =>
    ((hostname: string, _options: unknown, callback: (error: Error | null, found: { address: string; family: number }[]) => void) =>
      callback(null, (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as unknown as LookupFunction;
  const lookup = (resolve: LookupFunction, host: string, all = false) =>
    new Promise<{ error: Error | null; address: unknown }>((done) => guardedLookup(STRICT, resolve)(host, { all }, (error, address) => done({ error, address })));

  it('refuses a name whose answer now includes a private address (DNS rebinding)', async () => {
    const rebound = table({ 'hooks.example.com': ['93.184.216.34', '10.0.0.7'] });
    const { error } = await lookup(rebound, 'hooks.example.com');
    expect(error).toBeInstanceOf(OutboundRefused);
    expect(error!.message).toMatch(/10\.0\.0\.7, a private address/);
  });

  it('passes public answers on, singly or all', async () => {
    const fine = table({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    expect((await lookup(fine, 'hooks.example.com')).address).toBe('93.184.216.34');
    expect((await lookup(fine, 'hooks.example.com', true)).address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });
});

describe('signatures and retries', () => {
  it('signs as the standardwebhooks package verifies, with every secret in force', () => {
    const [a, b] = [newSecret(), newSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'BALANCE', eventId: 'e1' });
    const headers = { 'webhook-id': 'e1', 'webhook-timestamp': String(timestamp), 'webhook-signature': new Signer([b, a]).sign('e1', timestamp, body) };
    expect(new Webhook(a).verify(body, headers)).toEqual({ type: 'BALANCE', eventId: 'e1' });
    expect(new Webhook(b).verify(body, headers)).toEqual({ type: 'BALANCE', eventId: 'e1' });
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(a).verify(body.replace('e1', 'e2'), headers)).toThrow();
  });

  it('spreads each retry delay by ±20 % and gives none past the schedule', () => {
    const schedule = [5_000, 30_000];
    expect(retryDelayMs(schedule, 1, () => 0)).toBe(4_000);
    expect(retryDelayMs(schedule, 1, () => 1)).toBe(6_000);
    expect(retryDelayMs(schedule, 2, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(schedule, 3)).toBeNull();
  });
});
