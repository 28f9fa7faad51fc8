// Network facts: interfaces and addresses (Node's os.networkInterfaces on both platforms), the
// default gateway and the DNS resolvers.
// Loopback interfaces (every address internal, e.g. "lo" or "Loopback Pseudo-Interface 1") are
// left out: they say nothing about how the server is reached. Interfaces without any address are
// not listed either (os.networkInterfaces does not report them).
import type os from 'node:os';
import type { NetworkFacts } from '@tandem/protocol';
import { readFileOrNull, type FactsIO } from './io.ts';
import { clip, isRecord, num, powerShellJson, str, toArray } from './util.ts';

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

export function interfacesFromNode(all: Interfaces): NetworkFacts['interfaces'] {
  const result: NetworkFacts['interfaces'] = [];
  for (const [name, infos] of Object.entries(all)) {
    if (!infos || infos.length === 0 || infos.every((i) => i.internal)) continue;
    const mac = infos.find((i) => i.mac && i.mac !== '00:00:00:00:00:00')?.mac ?? null;
    const addresses = infos.map((i) => {
      // Node 18.0–18.3 reported the family as a number.
      const family: 'ipv4' | 'ipv6' = String(i.family) === 'IPv6' || String(i.family) === '6' ? 'ipv6' : 'ipv4';
      const prefix = Number((i.cidr ?? '').split('/')[1] ?? NaN);
      return { address: clip(i.address), prefix: Number.isInteger(prefix) ? prefix : prefixFromNetmask(i.netmask), family };
    });
    result.push({ name: clip(name), mac, addresses: addresses.slice(0, 256) });
  }
  return result.slice(0, 512);
}

/** Counts the set bits of an IPv4 or IPv6 netmask. */
export function prefixFromNetmask(mask: string): number {
  let bits = 0;
  if (mask.includes(':')) {
    for (const group of mask.split(':')) if (group) bits += popcount(parseInt(group, 16));
  } else {
    for (const octet of mask.split('.')) bits += popcount(Number(octet));
  }
  return Math.min(128, bits);
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

/** The default IPv4 gateway from /proc/net/route (lowest metric wins), or null. */
export function parseProcNetRoute(text: string): string | null {
  let best: { gateway: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [, destination, gateway, flags, , , metric, mask] = f;
    const RTF_UP = 0x1;
    const RTF_GATEWAY = 0x2;
    const fl = parseInt(flags!, 16);
    if (destination !== '00000000' || mask !== '00000000' || (fl & RTF_UP) === 0 || (fl & RTF_GATEWAY) === 0) continue;
    const m = Number(metric);
    if (best && best.metric <= m) continue;
    // Little-endian hex: 010200C0 is 192.0.2.1.
    const n = parseInt(gateway!, 16);
    const address = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
    best = { gateway: address, metric: m };
  }
  return best?.gateway ?? null;
}

/** The default IPv6 gateway from /proc/net/ipv6_route, or null. */
export function parseProcNetIpv6Route(text: string): string | null {
  let best: { gateway: string; metric: number } | null = null;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, destLen, , , nextHop, metricHex, , , flagsHex] = f;
    if (dest !== '0'.repeat(32) || destLen !== '00' || nextHop === '0'.repeat(32)) continue;
    if ((parseInt(flagsHex!, 16) & 0x3) !== 0x3) continue; // RTF_UP | RTF_GATEWAY
    const metric = parseInt(metricHex!, 16);
    if (best && best.metric <= metric) continue;
    const groups = nextHop!.match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
    best = { gateway: compressIpv6(groups), metric };
  }
  return best?.gateway ?? null;
}

function compressIpv6(groups: string[]): string {
  // Replace the longest run of zero groups (length ≥ 2) with "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Name servers from resolv.conf(5). */
export function parseResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && !servers.includes(m[1]!)) servers.push(m[1]!);
  }
  return servers;
}

async function collectLinuxNetwork(io: FactsIO): Promise<NetworkFacts> {
  const [route, route6, resolv] = await Promise.all([
    readFileOrNull(io, '/proc/net/route'),
    readFileOrNull(io, '/proc/net/ipv6_route'),
    readFileOrNull(io, '/etc/resolv.conf'),
  ]);
  let dns = parseResolvConf(resolv ?? '');
  // systemd-resolved's stub (127.0.0.53) hides the real upstream servers; its own file lists them.
  if (dns.length > 0 && dns.every((s) => s.startsWith('127.0.0.5'))) {
    const upstream = parseResolvConf((await readFileOrNull(io, '/run/systemd/resolve/resolv.conf')) ?? '');
    if (upstream.length > 0) dns = upstream;
  }
  return {
    interfaces: interfacesFromNode(io.system.networkInterfaces()),
    defaultGateway: parseProcNetRoute(route ?? '') ?? parseProcNetIpv6Route(route6 ?? ''),
    dnsResolvers: dns.slice(0, 32).map((s) => clip(s)),
  };
}

const WINDOWS_NETWORK_SCRIPT = `
$routes = @(Get-NetRoute -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue |
  Select-Object NextHop, RouteMetric, InterfaceMetric, InterfaceAlias)
$dns = @(Get-DnsClientServerAddress -ErrorAction SilentlyContinue |
  Select-Object InterfaceAlias, InterfaceIndex, AddressFamily, ServerAddresses)
[pscustomobject]@{ routes = $routes; dns = $dns } | ConvertTo-Json -Depth 4`;

/** Parses the Windows gateway/DNS query (exported for recorded-output tests). */
export function parseWindowsNetwork(value: unknown, interfaces: Interfaces): NetworkFacts {
  const v = isRecord(value) ? value : {};
  const routes = toArray(v.routes)
    .filter(isRecord)
    .map((r) => ({ hop: str(r.NextHop), metric: (num(r.RouteMetric) ?? 0) + (num(r.InterfaceMetric) ?? 0) }))
    .filter((r): r is { hop: string; metric: number } => !!r.hop && r.hop !== '0.0.0.0')
    .sort((a, b) => a.metric - b.metric);
  const dns: string[] = [];
  for (const entry of toArray(v.dns).filter(isRecord)) {
    for (const server of toArray(entry.ServerAddresses)) {
      const s = str(server);
      // fec0:0:0:ffff::1-3 are Windows' placeholders on interfaces without IPv6 DNS.
      if (!s || /^fec0:0:0:ffff::[123](%\d+)?$/i.test(s) || dns.includes(s)) continue;
      dns.push(s);
    }
  }
  return {
    interfaces: interfacesFromNode(interfaces),
    defaultGateway: routes[0] ? clip(routes[0].hop) : null,
    dnsResolvers: dns.slice(0, 32).map((s) => clip(s)),
  };
}

export async function collectNetwork(io: FactsIO): Promise<NetworkFacts> {
  if (io.platform === 'win32') {
    return parseWindowsNetwork(await powerShellJson(io, 'network', WINDOWS_NETWORK_SCRIPT), io.system.networkInterfaces());
  }
  if (io.platform === 'linux') return collectLinuxNetwork(io);
  throw new Error(`network facts are not supported on ${io.platform}`);
}
