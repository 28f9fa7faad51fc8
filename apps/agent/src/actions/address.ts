// address.ensure: a service address present on (or absent from) this server, for identity
// failover. Desired state: looks first, and changes nothing when the address already is where
// it should be.
// - Linux: `ip -j addr show` to look, `ip addr add|del` to change; a new IPv4 address is announced
//   with a gratuitous ARP (`arping -U`, Debian's iputils-arping) so neighbours drop the old
//   owner's MAC at once instead of when their cache expires; without arping the address is still
//   added and `announced` says false. IPv6 has no agent-sent announcement: the kernel sends an
//   unsolicited neighbour advertisement after duplicate address detection only when the
//   interface's ndisc_notify sysctl is on, and `announced` reports exactly that. Added addresses
//   do not survive a reboot (the failover re-asserts them; nothing is written to network config).
// - Windows: Get-NetIPAddress / New-NetIPAddress / Remove-NetIPAddress through PowerShell.
//   Windows runs duplicate address detection itself; the agent sends nothing of its own, so it
//   reports announced: false there.
// Which interface: the one given, or the one whose subnet holds the address. None (or the given
// one holds no address of that subnet) is refused unless `force`; with force an interface must be
// named, since there is nothing to choose one by. A duplicate (another host already answers for
// the address, found by duplicate address detection) is removed again and reported as an error.
import net from 'node:net';
import type { ActionArgs } from '@tandem/protocol';
import { which, type FactsIO } from '../facts/io.ts';
import { clip, isRecord, num, powerShellJson, psQuote, str, toArray } from '../facts/util.ts';

type Args = ActionArgs<'address.ensure'>;
export interface AddressResult {
  present: boolean;
  changed: boolean;
  interface: string | null;
  announced: boolean;
}

export interface InterfaceAddress {
  address: string;
  prefix: number;
  tentative?: boolean;
  dadFailed?: boolean;
}
export interface NetInterface {
  name: string;
  loopback: boolean;
  addresses: InterfaceAddress[];
}

const COMMAND_TIMEOUT_MS = 20_000;
const DAD_WAIT_MS = 5_000;

const familyOf = (address: string) => (net.isIPv6(address) ? 'ipv6' : 'ipv4');
/** Equal addresses, whatever their spelling ("2001:db8::1" and "2001:DB8:0::1"). */
function sameAddress(a: string, b: string): boolean {
  if (familyOf(a) !== familyOf(b)) return false;
  const list = new net.BlockList();
  list.addAddress(a, familyOf(a));
  return list.check(b, familyOf(b));
}

/** Whether `address` lies in the subnet of `ifAddress`/`prefix` (same family). */
export function inSubnet(address: string, ifAddress: string, prefix: number): boolean {
  const family = familyOf(address);
  if (familyOf(ifAddress) !== family) return false;
  const list = new net.BlockList();
  list.addSubnet(ifAddress, prefix, family);
  return list.check(address, family);
}

function isLinkLocalOrLoopback(address: string): boolean {
  return inSubnet(address, '127.0.0.0', 8) || inSubnet(address, '169.254.0.0', 16) || inSubnet(address, 'fe80::', 10) || inSubnet(address, '::1', 128);
}

/** The interface whose subnet holds `address`: one, or none (a subnet on several is an error). */
export function interfaceForSubnet(interfaces: NetInterface[], address: string): string | null {
  const full = familyOf(address) === 'ipv4' ? 32 : 128;
  const matches = interfaces.filter(
    (i) =>
      !i.loopback &&
      i.addresses.some((a) => a.prefix < full && !isLinkLocalOrLoopback(a.address) && inSubnet(address, a.address, a.prefix)),
  );
  if (matches.length > 1) {
    throw new Error(
      `${address} is in the subnet of several interfaces (${matches.map((i) => i.name).join(', ')}): name the interface to use`,
    );
  }
  return matches[0]?.name ?? null;
}

function findAddress(interfaces: NetInterface[], address: string): { iface: NetInterface; entry: InterfaceAddress } | null {
  for (const iface of interfaces) {
    const entry = iface.addresses.find((a) => sameAddress(a.address, address));
    if (entry) return { iface, entry };
  }
  return null;
}

/** Decides where a missing address goes (or refuses): the heart of address.ensure, shared by both platforms. */
export function chooseInterface(interfaces: NetInterface[], args: Pick<Args, 'address' | 'prefix' | 'interface' | 'force'>): string {
  const subnet = `${args.address}/${args.prefix}`;
  if (args.interface !== null) {
    const iface = interfaces.find((i) => i.name === args.interface);
    if (!iface) throw new Error(`interface "${args.interface}" does not exist on this server (it has: ${interfaces.map((i) => i.name).join(', ') || 'none'})`);
    const holds = iface.addresses.some((a) => inSubnet(args.address, a.address, a.prefix) && !isLinkLocalOrLoopback(a.address));
    if (!holds && !args.force) {
      throw new Error(
        `interface "${iface.name}" has no address in the subnet of ${subnet}: clients there could not reach it. Use force to add it anyway`,
      );
    }
    return iface.name;
  }
  const found = interfaceForSubnet(interfaces, args.address);
  if (found) return found;
  if (args.force) throw new Error(`no interface of this server is in the subnet of ${subnet}: with force, name the interface to add it to`);
  throw new Error(`no interface of this server is in the subnet of ${subnet}: name an interface and use force to add it anyway`);
}

function checkPrefix(args: Args) {
  if (familyOf(args.address) === 'ipv4' && args.prefix > 32) throw new Error(`Invalid argument "prefix": ${args.prefix} is more than 32 for an IPv4 address`);
}

export async function ensureAddress(io: FactsIO, args: Args): Promise<AddressResult> {
  checkPrefix(args);
  if (io.platform === 'linux') return ensureLinux(io, args);
  if (io.platform === 'win32') return ensureWindows(io, args);
  throw new Error(`address.ensure is not supported on ${io.platform}`);
}

// ---------------------------------------------------------------------------------------------
// Linux

function ipFailed(what: string, r: { code: number | null; stdout: string; stderr: string }): Error {
  return new Error(`${what} failed (exit ${r.code ?? 'by signal'}): ${clip((r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join('\n'), 1000)}`);
}

/** Parses `ip -j addr show`. */
export function parseIpAddr(text: string): NetInterface[] {
  const value = JSON.parse(text) as unknown;
  return toArray(value)
    .filter(isRecord)
    .map((i) => ({
      name: str(i.ifname) ?? '',
      loopback: Array.isArray(i.flags) && i.flags.includes('LOOPBACK'),
      addresses: toArray(i.addr_info)
        .filter(isRecord)
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
        .map((a) => ({ address: a.local as string, prefix: num(a.prefixlen) ?? 0, tentative: a.tentative === true, dadFailed: a.dadfailed === true })),
    }))
    .filter((i) => i.name !== '');
}

async function linuxInterfaces(io: FactsIO, device?: string): Promise<NetInterface[]> {
  const r = await io.run('ip', ['-j', 'addr', 'show', ...(device ? ['dev', device] : [])], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (r.code !== 0) throw ipFailed('ip -j addr show', r);
  return parseIpAddr(r.stdout);
}

async function ensureLinux(io: FactsIO, args: Args): Promise<AddressResult> {
  const interfaces = await linuxInterfaces(io);
  const found = findAddress(interfaces, args.address);
  if (!args.present) {
    if (!found) return { present: false, changed: false, interface: null, announced: false };
    const r = await io.run('ip', ['addr', 'del', `${found.entry.address}/${found.entry.prefix}`, 'dev', found.iface.name], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (r.code !== 0) throw ipFailed(`ip addr del ${args.address} dev ${found.iface.name}`, r);
    return { present: false, changed: true, interface: found.iface.name, announced: false };
  }
  if (found) {
    // Already here. Announced again all the same: an agent that crashed between adding and
    // announcing is re-sent the command, and neighbours may still hold the old owner's MAC.
    return { present: true, changed: false, interface: found.iface.name, announced: await announceLinux(io, found.iface.name, args.address) };
  }
  const device = chooseInterface(interfaces, args);
  const r = await io.run('ip', ['addr', 'add', `${args.address}/${args.prefix}`, 'dev', device], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (r.code !== 0) throw ipFailed(`ip addr add ${args.address}/${args.prefix} dev ${device}`, r);
  if (familyOf(args.address) === 'ipv6') await waitForDad(io, device, args);
  return { present: true, changed: true, interface: device, announced: await announceLinux(io, device, args.address) };
}

/** IPv6: waits (briefly) until duplicate address detection is over; a duplicate is taken back out. */
async function waitForDad(io: FactsIO, device: string, args: Args) {
  const deadline = Date.now() + DAD_WAIT_MS;
  for (;;) {
    const entry = findAddress(await linuxInterfaces(io, device), args.address)?.entry;
    if (entry?.dadFailed) {
      await io.run('ip', ['addr', 'del', `${args.address}/${args.prefix}`, 'dev', device], { timeoutMs: COMMAND_TIMEOUT_MS });
      throw new Error(`${args.address} is already in use by another host on ${device} (duplicate address detection failed); it was not kept`);
    }
    if (!entry?.tentative || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function announceLinux(io: FactsIO, device: string, address: string): Promise<boolean> {
  if (familyOf(address) === 'ipv6') {
    const notify = async (scope: string) => (await io.readFile(`/proc/sys/net/ipv6/conf/${scope}/ndisc_notify`).catch(() => '0')).trim() === '1';
    return (await notify(device)) || (await notify('all'));
  }
  const arping = await which(io, 'arping');
  if (!arping) return false;
  // -U: unsolicited ARP (sender and target are the address itself); two, a second apart.
  const r = await io.run(arping, ['-U', '-c', '2', '-I', device, address], { timeoutMs: COMMAND_TIMEOUT_MS });
  return r.code === 0;
}

// ---------------------------------------------------------------------------------------------
// Windows

const WINDOWS_LIST_SCRIPT = `
@(Get-NetIPAddress | ForEach-Object {
  [pscustomobject]@{ IPAddress = $_.IPAddress; PrefixLength = [int]$_.PrefixLength; InterfaceAlias = $_.InterfaceAlias; AddressState = [string]$_.AddressState }
}) | ConvertTo-Json`;

/** Parses the address list script's output (Get-NetIPAddress). */
export function parseWindowsAddresses(value: unknown): NetInterface[] {
  const byAlias = new Map<string, NetInterface>();
  for (const a of toArray(value).filter(isRecord)) {
    const alias = str(a.InterfaceAlias);
    const address = str(a.IPAddress)?.replace(/%.*$/, ''); // Link-local addresses carry a zone index.
    const prefix = num(a.PrefixLength);
    if (!alias || !address || prefix === null || !net.isIP(address)) continue;
    const iface = byAlias.get(alias) ?? { name: alias, loopback: /^Loopback/i.test(alias), addresses: [] };
    iface.addresses.push({ address, prefix, tentative: a.AddressState === 'Tentative', dadFailed: a.AddressState === 'Duplicate' });
    byAlias.set(alias, iface);
  }
  return [...byAlias.values()];
}

export function windowsAddScript(address: string, prefix: number, alias: string): string {
  return `
$a = ${psQuote(address)}
$alias = ${psQuote(alias)}
$null = New-NetIPAddress -IPAddress $a -PrefixLength ${prefix} -InterfaceAlias $alias
# Duplicate address detection: wait (up to 10 s) for its verdict.
$deadline = (Get-Date).AddSeconds(10)
do {
  $ip = Get-NetIPAddress -IPAddress $a -InterfaceAlias $alias -ErrorAction SilentlyContinue
  if ($ip -and [string]$ip.AddressState -ne 'Tentative') { break }
  Start-Sleep -Milliseconds 200
} while ((Get-Date) -lt $deadline)
[pscustomobject]@{ IPAddress = $a; InterfaceAlias = $alias; AddressState = [string]$ip.AddressState } | ConvertTo-Json`;
}

export function windowsRemoveScript(address: string, alias: string): string {
  return `
$a = ${psQuote(address)}
$alias = ${psQuote(alias)}
Remove-NetIPAddress -IPAddress $a -InterfaceAlias $alias -Confirm:$false
[pscustomobject]@{ removed = $true } | ConvertTo-Json`;
}

async function ensureWindows(io: FactsIO, args: Args): Promise<AddressResult> {
  const interfaces = parseWindowsAddresses(await powerShellJson(io, 'address-list', WINDOWS_LIST_SCRIPT, COMMAND_TIMEOUT_MS));
  const found = findAddress(interfaces, args.address);
  if (!args.present) {
    if (!found) return { present: false, changed: false, interface: null, announced: false };
    await powerShellJson(io, 'address-remove', windowsRemoveScript(found.entry.address, found.iface.name), COMMAND_TIMEOUT_MS);
    return { present: false, changed: true, interface: found.iface.name, announced: false };
  }
  if (found) return { present: true, changed: false, interface: found.iface.name, announced: false };
  const alias = chooseInterface(interfaces, args);
  const added = await powerShellJson(io, 'address-add', windowsAddScript(args.address, args.prefix, alias), 60_000);
  const state = isRecord(added) ? str(added.AddressState) : null;
  if (state === 'Duplicate') {
    await powerShellJson(io, 'address-remove', windowsRemoveScript(args.address, alias), COMMAND_TIMEOUT_MS);
    throw new Error(`${args.address} is already in use by another host on "${alias}" (duplicate address detection failed); it was not kept`);
  }
  return { present: true, changed: true, interface: alias, announced: false };
}
