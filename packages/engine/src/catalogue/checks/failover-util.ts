import { sameAddress, sameSubnet } from '../../pair/runbooks/common.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';

// Small pure helpers of the failover-facing families (dns, identity, directory, cluster, drill,
// credentials, readiness): names, addresses, versions and paths.

export { sameAddress, sameSubnet };

/** A DNS name compared without case and trailing dot. */
export const dnsKey = (name: string) => name.trim().toLowerCase().replace(/\.$/, '');

/** The source's DNS name the failover moves: the pair's, else its first configured A/AAAA record. */
export function sourceFqdn(snap: FactsSnapshot): string | null {
  const d = snap.pair.dns;
  return d.sourceName ?? d.records.find((r) => r.type === 'A' || r.type === 'AAAA')?.name ?? null;
}

/** The source name's A/AAAA records in the dry run. */
export function sourceAddressRecords(snap: FactsSnapshot) {
  const name = sourceFqdn(snap);
  if (!name || !snap.dns) return [];
  return snap.dns.records.filter((r) => (r.type === 'A' || r.type === 'AAAA') && dnsKey(r.name) === dnsKey(name));
}

export const dnsFailover = (snap: FactsSnapshot) => snap.pair.failover.mode === 'dns';
export const identityFailover = (snap: FactsSnapshot) => snap.pair.failover.mode === 'identity';
export const clustered = (snap: FactsSnapshot) => !!(snap.cluster?.source || snap.cluster?.target);

/**
 * The failover plan needs directory actions (catalogue §2.11): SPN moves or a name alias, Exchange
 * object updates, record security in Windows (AD-integrated) zones, or a stored directory
 * credential. The worker runs the directory probe exactly when this holds (or when it ran it anyway).
 */
export function needsDirectory(snap: FactsSnapshot): boolean {
  const p = snap.pair;
  return (
    p.identity.hostSpn ||
    p.identity.takeName ||
    p.app === 'exchange' ||
    p.app === 'sharepoint' ||
    (p.failover.mode === 'dns' && p.dns.provider === 'windows') ||
    p.credentials.some((c) => c.purpose === 'directory')
  );
}

const loopback = (a: string) => a.startsWith('127.') || sameAddress(a, '::1');
export const isLoopback = loopback;

/** Every address configured on a node's interfaces. */
export const nodeAddresses = (n: NodeFacts) => (n.interfaces ?? []).flatMap((i) => i.addresses.map((a) => a.address));

/** Compares dotted versions numerically (1.10.0 > 1.9.2; missing parts are 0). -1, 0 or 1. */
export function versionOrder(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/i, '').split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d < 0 ? -1 : 1;
  }
  return 0;
}

const winPath = (p: string) => /^[A-Za-z]:[\\/]/.test(p);
const normPath = (p: string) => {
  const s = winPath(p) ? p.replace(/\//g, '\\').toLowerCase() : p;
  return s.length > 1 ? s.replace(/[\\/]+$/, '') || s : s;
};
/** `path` is `root` or below it (Windows paths without case). */
export function under(path: string, root: string): boolean {
  const p = normPath(path);
  const r = normPath(root);
  if (p === r) return true;
  const sep = winPath(root) ? '\\' : '/';
  return p.startsWith(r.endsWith(sep) ? r : r + sep);
}

/** The target paths holding replicated data: the roots through the path map, or the standby's data directory. */
export function targetDataPaths(snap: FactsSnapshot): string[] {
  const p = snap.pair;
  if (p.rules) {
    return p.rules.roots.map((root) => {
      const m = [...p.pathMap].sort((a, b) => b.from.length - a.from.length).find((e) => under(root, e.from));
      if (!m) return root;
      const rest = normPath(root).slice(normPath(m.from).length).replace(/^[\\/]+/, '');
      return rest ? `${m.to.replace(/[\\/]+$/, '')}${winPath(m.to) ? '\\' : '/'}${rest}` : m.to;
    });
  }
  return p.database ? [p.database.targetDataDir] : [];
}

/** The volume holding a path: the longest mount point containing it. */
export function volumeHolding<V extends { mountPoint: string }>(volumes: readonly V[], path: string): V | null {
  let best: V | null = null;
  for (const v of volumes) if (under(path, v.mountPoint) && (!best || normPath(v.mountPoint).length > normPath(best.mountPoint).length)) best = v;
  return best;
}

export const GiB = 2 ** 30;
export const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
export const DAY_MS = 86_400_000;
