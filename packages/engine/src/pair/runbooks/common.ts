import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { PairSettings } from '../settings.ts';
import type { HookPoint, PlannedStep, Side } from '../plans.ts';

// Shared pieces of the failover and failback planners: the servers as the planner sees them,
// refusals the caller can show, hooks and services as steps, and subnet arithmetic.

/** One side of the pair as the planner needs it (from the server row and its agent's latest facts). */
export interface RunbookServer {
  id: string;
  hostname: string;
  /** The server's fully qualified name (DNS failover re-points CNAME/MX records at the target's). */
  fqdn: string | null;
  osFamily: 'linux' | 'windows';
  agentOnline: boolean;
  /** Network interfaces with their addresses (facts); null when the agent never reported them. */
  interfaces: { name: string; addresses: { address: string; prefix: number }[] }[] | null;
  /** The cluster this server is a member of (its agent's facts); null or absent: not a member, or not reported. */
  cluster?: RunbookCluster | null;
}

/** A server's cluster as the planner needs it: the stack, the cluster's and this node's names, what it knows. */
export interface RunbookCluster {
  stack: 'pacemaker' | 'windows-failover-cluster';
  /** The cluster's name (corosync.conf cluster_name, the Windows cluster name); null when it has none. */
  name: string | null;
  /** This server's node name in the cluster; null when it cannot be told from the facts. */
  node: string | null;
  resources: { id: string; group: string | null; node: string | null }[];
  groups: { id: string; resources: string[]; node: string | null }[];
}

/** A plan that cannot be made as configured: the message says what to change. */
export const refuse = (message: string) => new AppError('CONFLICT', message);

const isV4 = (a: string) => z.ipv4().safeParse(a).success;
const isV6 = (a: string) => z.ipv6().safeParse(a).success;
export const isIp = (a: string) => isV4(a) || isV6(a);

/** An address as a number (IPv4: 32 bits, IPv6: 128 bits), or null when it is not an address. */
function addressBits(address: string): { v6: boolean; value: bigint } | null {
  if (isV4(address)) return { v6: false, value: address.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n) };
  if (!isV6(address)) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:10.0.0.5) becomes two groups.
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const o = v4Tail[1]!.split('.').map(Number);
    text = text.slice(0, -v4Tail[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head = '', tail = ''] = text.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const full = text.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return { v6: true, value: full.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
}

/** Both addresses lie in the same subnet of this prefix length (and the same family). */
export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const x = addressBits(a);
  const y = addressBits(b);
  if (!x || !y || x.v6 !== y.v6) return false;
  const width = x.v6 ? 128 : 32;
  const shift = BigInt(width - Math.min(Math.max(prefix, 0), width));
  return x.value >> shift === y.value >> shift;
}

/** Two spellings of one address (fd00::5 and fd00:0::5) are equal. */
export function sameAddress(a: string, b: string): boolean {
  const x = addressBits(a);
  const y = addressBits(b);
  return !!x && !!y && x.v6 === y.v6 && x.value === y.value;
}

/** The interface of a server that holds an address in the subnet of address/prefix (null: none). */
export function interfaceInSubnet(server: RunbookServer, address: string, prefix: number): string | null {
  for (const i of server.interfaces ?? []) {
    if (i.addresses.some((a) => sameSubnet(a.address, address, prefix))) return i.name;
  }
  return null;
}

/** The interface that holds exactly this address (null: none). */
export function interfaceHolding(server: RunbookServer, address: string): string | null {
  return server.interfaces?.find((i) => i.addresses.some((a) => sameAddress(a.address, address)))?.name ?? null;
}

const hookWords: Record<HookPoint, string> = {
  beforeFailover: 'before-failover',
  afterFailover: 'after-failover',
  beforeFailback: 'before-failback',
  afterFailback: 'after-failback',
  beforeRestore: 'before-restore',
  afterRestore: 'after-restore',
};

/** A hook.run step when the pair has a script for this point, else nothing. */
export function hookStep(
  settings: PairSettings,
  hook: HookPoint,
  side: Side,
  server: RunbookServer,
  afterPointOfNoReturn: boolean,
): PlannedStep[] {
  const script = settings.hooks[hook];
  if (!script || !script.trim()) return [];
  const consequence = afterPointOfNoReturn
    ? 'a failure is reported as a warning'
    : 'a non-zero exit stops and undoes the operation';
  return [
    {
      kind: 'hook.run',
      description: `Run the ${hookWords[hook]} hook on ${server.hostname} (${consequence})`,
      params: { side, hook },
    },
  ];
}

/** The services that follow the pair's role, in start order (the application's, then the extra ones), without repeats. */
export function roleServices(settings: PairSettings): string[] {
  return [...new Set([...settings.failover.services, ...settings.failover.extraServices])];
}

export const listWords = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;

/** Keeps a step description inside the schema's 1000 characters. */
export const clip = (text: string) => (text.length <= 1000 ? text : `${text.slice(0, 997)}...`);
