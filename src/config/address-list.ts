/** Parsing the address lists of settings (TRUSTED_PROXIES) into Node's BlockList. */
import { BlockList, isIP } from 'node:net';

/** Parses `TRUSTED_PROXIES` entries (addresses or CIDR ranges) into a list; throws on a bad one. */
export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new Error(`"${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address!, type);
    else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`"${entry}" has a bad prefix length`);
      list.addSubnet(address!, prefix, type);
    }
  }
  return list;
}
