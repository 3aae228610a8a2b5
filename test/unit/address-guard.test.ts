/**
 * The per-address rules without a network: which address a request is from (through
 * trusted proxies only), the connection bucket, the held-connection count and the
 * cool-down, driven by explicit clock values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { proxyList } from '../../src/config/address-list.ts';
import { AddressGuard, clientAddress } from '../../src/transport/address-guard/address-guard.ts';

const limits = { connectsPerSecond: 2, maxConnections: 3, authFailures: 2, authFailureWindowMs: 10_000, authCooldownMs: 5_000, trustedProxies: ['10.0.0.0/8', '::1'] };

describe('the client address', () => {
  const trusted = proxyList(limits.trustedProxies);
  it('is the peer unless the peer is a trusted proxy', () => {
    expect(clientAddress('203.0.113.5', '198.51.100.1', trusted, true)).toBe('203.0.113.5');
    expect(clientAddress('::ffff:203.0.113.5', undefined, trusted, true)).toBe('203.0.113.5');
  });
  it('is the right-most forwarded address that is not a trusted proxy', () => {
    expect(clientAddress('10.1.1.1', '198.51.100.1', trusted, true)).toBe('198.51.100.1');
    expect(clientAddress('10.1.1.1', '192.0.2.9, 198.51.100.1, 10.2.2.2', trusted, true)).toBe('198.51.100.1');
    expect(clientAddress('::1', ['192.0.2.9', '10.0.0.3'], trusted, true)).toBe('192.0.2.9');
    expect(clientAddress('10.1.1.1', 'garbage, 10.0.0.4', trusted, true)).toBe('10.0.0.4');
    expect(clientAddress('10.1.1.1', '198.51.100.1', trusted, false)).toBe('10.1.1.1');
  });
  it('refuses a proxy list entry that is not an address or range', () => {
    expect(() => proxyList(['10.0.0.0/33'])).toThrow(/prefix/);
    expect(() => proxyList(['proxy.internal'])).toThrow(/not an IP address/);
  });
});

describe('the guard', () => {
  let guard: AddressGuard;
  afterEach(() => guard.stop());

  it('lets a burst of the rate through, then refills at the rate', () => {
    guard = new AddressGuard({ ...limits, maxConnections: 0 });
    expect(typeof guard.open('a', 0)).toBe('function');
    expect(typeof guard.open('a', 0)).toBe('function');
    expect(guard.open('a', 0)).toMatchObject({ reason: 'connection rate', retryAfterMs: 500 });
    expect(typeof guard.open('b', 0)).toBe('function');
    expect(typeof guard.open('a', 500)).toBe('function');
  });

  it('counts held connections and frees one on release, once', () => {
    guard = new AddressGuard({ ...limits, connectsPerSecond: 0 });
    const releases = [guard.open('a', 0), guard.open('a', 0), guard.open('a', 0)] as (() => void)[];
    expect(guard.open('a', 0)).toMatchObject({ reason: 'connection limit', limit: 3 });
    releases[0]!();
    releases[0]!();
    expect(typeof guard.open('a', 0)).toBe('function');
    expect(guard.open('a', 0)).toMatchObject({ reason: 'connection limit' });
  });

  it('cools an address down after the failures within the window, and only that one', () => {
    const cooled: string[] = [];
    guard = new AddressGuard(limits, (address) => cooled.push(address));
    guard.authFailed('a', 0);
    guard.authFailed('a', 20_000); // the first fell out of the window
    expect(guard.check('a', 20_000)).toBeNull();
    guard.authFailed('a', 21_000);
    expect(cooled).toEqual(['a']);
    expect(guard.check('a', 22_000)).toMatchObject({ reason: 'authentication cool-down', retryAfterMs: 4_000 });
    expect(guard.open('a', 22_000)).toMatchObject({ reason: 'authentication cool-down' });
    expect(guard.check('b', 22_000)).toBeNull();
    expect(guard.check('a', 26_000)).toBeNull();
  });
});
