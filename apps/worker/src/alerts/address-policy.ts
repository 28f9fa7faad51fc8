// Which addresses a webhook may reach. Webhook URLs are typed in by customers' MSPs, and the
// worker sits inside our network: without a check, a URL could make it POST to the cloud metadata
// service, to our own PostgreSQL/Redis hosts or to anything else on a private network. With the
// policy "deny", an address on loopback, a private, link-local, shared, multicast or reserved
// range is refused — both a literal address in the URL and every address its host name resolves
// to (checked at connect time, so a name that changes its answer between check and use cannot
// slip through). "allow" is for a demo or tests whose receivers run on loopback.
import dns from 'node:dns';
import net from 'node:net';

export type PrivateAddressPolicy = 'allow' | 'deny';

const blocked = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64: an IPv4 address in disguise
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv6');
}

/** Whether `address` (an IPv4 or IPv6 literal) is on a range a webhook may not reach. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  // An IPv4 address mapped into IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(address, 'ipv6');
}

export class PrivateAddressError extends Error {
  code = 'EPRIVATEADDRESS';
  constructor(public readonly address: string) {
    super(`The webhook's address ${address} is on a private or reserved network, which webhooks may not reach`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves like dns.lookup and refuses private answers. Node calls
 * it with `all: true` when it tries several addresses (autoSelectFamily), otherwise for one.
 */
export function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, options.all ? [] : '');
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new PrivateAddressError(bad.address), options.all ? [] : '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), '');
    callback(null, first.address, first.family);
  });
}

/** The policy's check of a URL whose host is a literal address (no lookup happens for those); null when it may go. */
export function literalAddressRefusal(url: URL, policy: PrivateAddressPolicy): string | null {
  if (policy === 'allow') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return net.isIP(host) && isPrivateAddress(host) ? new PrivateAddressError(host).message : null;
}
