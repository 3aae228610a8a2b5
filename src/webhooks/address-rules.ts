/**
 * Where a webhook may be sent. A URL a tenant gives is a request the server makes on its
 * behalf, so without rules it reaches whatever the server can: its own admin ports, the
 * database, a cloud metadata service. Addresses are checked after DNS resolution and again
 * when each connection is made (a name may resolve differently a second later).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Ranges no webhook reaches unless private networks are allowed, with why. */
const REFUSED_V4: [string, number, string][] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const REFUSED_V6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
  ['100::', 64, 'discard'],
];

const lists = [...REFUSED_V4.map((r) => [...r, 'ipv4'] as const), ...REFUSED_V6.map((r) => [...r, 'ipv6'] as const)].map(([network, prefix, why, type]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, why, type };
});

/** The IPv4 address inside an IPv4-mapped, -compatible or NAT64 IPv6 address, if any. */
function embeddedV4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * Why `address` (an IP literal) is not a public address, or null when it is. IPv6 forms
 * that carry an IPv4 address are judged by that address.
 */
export function refusedRange(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const inner = embeddedV4(address);
    if (inner) return refusedRange(inner);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, why, type: listType } of lists) if (listType === type && list.check(address, type)) return why;
  return null;
}

/** Raised when a webhook URL or the address it resolves to may not be used. */
export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

/** What outbound requests may reach. */
export interface OutboundPolicy {
  /** Also `http:` (otherwise `https:` only). */
  allowHttp: boolean;
  /** Also loopback, private, link-local and the other non-public ranges. */
  allowPrivateNetworks: boolean;
}

/** The host of `url` without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Checks a webhook URL's form: scheme, no credentials, and (for an IP literal) the
 * address. Throws {@link OutboundRefused} with the reason.
 */
export function checkUrlShape(raw: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefused('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    throw new OutboundRefused(policy.allowHttp ? 'must start with https:// or http://' : 'must start with https:// (plain http is off: WEBHOOK_ALLOW_HTTP)');
  }
  if (url.username || url.password) throw new OutboundRefused('must not carry credentials; receivers verify the signature instead');
  const host = hostOf(url);
  if (isIP(host)) assertAddressAllowed(host, policy);
  return url;
}

/** Throws {@link OutboundRefused} when `address` is outside what `policy` lets webhooks reach. */
export function assertAddressAllowed(address: string, policy: OutboundPolicy): void {
  if (policy.allowPrivateNetworks) return;
  const why = refusedRange(address);
  if (why) throw new OutboundRefused(`resolves to ${address}, a ${why} address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)`);
}

/** Checks `raw` fully: its form, then every address its host resolves to now. */
export async function checkUrl(raw: string, policy: OutboundPolicy): Promise<URL> {
  const url = checkUrlShape(raw, policy);
  const host = hostOf(url);
  if (isIP(host) || policy.allowPrivateNetworks) return url;
  let addresses: LookupAddress[];
  try {
    addresses = await new Promise((resolve, reject) => dnsLookup(host, { all: true }, (error, found) => (error ? reject(error) : resolve(found))));
  } catch (error) {
    throw new OutboundRefused(`host ${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})`);
  }
  for (const { address } of addresses) assertAddressAllowed(address, policy);
  return url;
}

/**
 * A `lookup` for HTTP agents that refuses, at connect time, names resolving to addresses
 * the policy does not allow (the check at creation cannot see a later DNS answer).
 */
export function guardedLookup(policy: OutboundPolicy, resolve: LookupFunction = dnsLookup as LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, '', 0);
      const addresses = found as unknown as LookupAddress[];
      try {
        for (const { address } of addresses) assertAddressAllowed(address, policy);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
