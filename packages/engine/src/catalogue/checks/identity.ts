import type { CheckDef } from '../model.ts';
import { identityFailover, sameAddress, sameSubnet } from './failover-util.ts';

// The `identity` family (catalogue §2.10, §4.7): the target takes over the source's name and
// addresses. Every row applies only when the pair's failover mode is identity.

const base = { family: 'identity', scope: ['pair'] as CheckDef['scope'], appliesTo: ['any'] as CheckDef['appliesTo'], when: identityFailover };

export const identityChecks: CheckDef[] = [
  {
    ...base,
    id: 'identity.not-recommended',
    title: 'Identity takeover selected',
    detects: 'The pair fails over by taking over the source’s name and addresses. When the source returns, name and address collisions are likely, and clients converge only as ARP caches and directory replication catch up.',
    severity: 'warning',
    facts: ['P'],
    evaluate: (ctx) => [{ subject: 'failover=identity', message: `${ctx.snap.pair.name} fails over by identity takeover; DNS failover is the safer choice.`, evidence: { mode: 'identity', takeName: ctx.snap.pair.identity.takeName, addresses: ctx.snap.pair.identity.addresses.map((a) => a.address) } }],
    fix: { kind: 'manual', guidance: 'Prefer DNS failover. Keep identity takeover only where clients connect by address or the DNS records cannot be changed.' },
    legacy: ['EX-38', 'SQL-56'],
  },
  {
    ...base,
    id: 'identity.no-monitored-ip',
    title: 'No monitored source address',
    detects: 'Identity takeover is selected, but no source address is monitored, so nothing detects the loss of the identity being taken over.',
    severity: 'error',
    facts: ['P'],
    evaluate: (ctx) => (ctx.snap.pair.monitor.addresses.length ? [] : [{ subject: 'monitor=addresses', message: 'Identity takeover is selected, but the pair monitors no source address.', evidence: { monitored: [] } }]),
    fix: { kind: 'manual', guidance: 'Select at least one source address to monitor in the pair’s failover settings.' },
    legacy: ['EX-39', 'SQL-34'],
  },
  {
    ...base,
    id: 'identity.cross-subnet',
    title: 'Takeover address outside the target’s subnet',
    detects: 'An address the target would take over lies outside every subnet of the target interface chosen for it, so it would be unreachable after takeover.',
    severity: 'warning',
    facts: ['P', 'T.net'],
    evaluate: (ctx) => {
      const ifaces = ctx.snap.target!.interfaces ?? [];
      return ctx.snap.pair.identity.addresses.flatMap((a) => {
        const candidates = a.targetInterface ? ifaces.filter((i) => i.name === a.targetInterface) : ifaces;
        const fits = candidates.some((i) => i.addresses.some((x) => sameSubnet(x.address, a.address, x.prefix) || sameAddress(x.address, a.address)));
        if (fits) return [];
        return [{ subject: `address=${a.address}`, message: `${a.address} is outside every subnet of ${a.targetInterface ? `the target interface ${a.targetInterface}` : 'the target’s interfaces'}; it would be unreachable after takeover.`, evidence: { address: a.address, prefix: a.prefix, targetInterface: a.targetInterface, targetSubnets: candidates.flatMap((i) => i.addresses.map((x) => `${x.address}/${x.prefix}`)) } }];
      });
    },
    fix: { kind: 'manual', guidance: 'Do not take over addresses across subnets. Use DNS failover instead, optionally taking over only the server name.' },
    legacy: ['EX-40', 'SQL-33'],
  },
  {
    ...base,
    id: 'identity.cluster-unsupported',
    title: 'Identity takeover with a cluster',
    detects: 'Identity takeover is selected while the source or the target is a clustered role; clusters support DNS failover only.',
    severity: 'error',
    facts: ['P', 'C'],
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!;
      return (['source', 'target'] as const)
        .filter((side) => c[side])
        .map((side) => ({ subject: `cluster=${c[side]!.name ?? side}`, message: `The ${side} is a ${c[side]!.kind === 'wsfc' ? 'Windows failover cluster' : 'Pacemaker'} role; identity takeover does not work with clusters.`, evidence: { side, kind: c[side]!.kind, cluster: c[side]!.name } }));
    },
    fix: { kind: 'manual', guidance: 'Switch the pair to DNS failover: clustered roles keep their own names and addresses.' },
    legacy: ['HP: clusters support DNS failover only'],
  },
  {
    ...base,
    id: 'identity.ip-takeover-unsupported-network',
    title: 'Address takeover needs the cloud provider',
    detects: 'The target sits in a cloud or overlay network where moving an address needs the provider’s API (a gratuitous ARP is not enough), and no network credential is stored for it.',
    severity: 'error',
    facts: ['P', 'T.cloud', 'V'],
    evaluate: (ctx) => {
      const cloud = ctx.snap.target!.cloud;
      if (!cloud || (cloud.network !== 'vpc' && cloud.network !== 'overlay') || !ctx.snap.pair.identity.addresses.length) return [];
      if (ctx.snap.vault.some((v) => v.purpose === 'network')) return [];
      return [{ subject: `network=${cloud.platform}`, message: `The target runs on ${cloud.platform} (${cloud.network} network): taking over ${ctx.snap.pair.identity.addresses.map((a) => a.address).join(', ')} needs the provider’s API, and no network credential is stored.`, evidence: { platform: cloud.platform, network: cloud.network, addresses: ctx.snap.pair.identity.addresses.map((a) => a.address) } }];
    },
    fix: { kind: 'manual', guidance: 'Store a network credential that may reassign the address through the provider’s API, or switch the pair to DNS failover.' },
  },
  {
    ...base,
    id: 'identity.fencing-missing',
    title: 'No fencing for identity takeover',
    detects: 'Identity takeover is selected with no power or network fencing, so a returning source can come back with the same name and addresses.',
    severity: 'warning',
    facts: ['P'],
    evaluate: (ctx) => {
      const f = ctx.snap.pair.fencing;
      if (f.includes('power') || f.includes('network')) return [];
      return [{ subject: 'fencing=source', message: 'No power or network fencing keeps a returning source off the network after an identity takeover.', evidence: { fencing: f } }];
    },
    fix: { kind: 'manual', guidance: 'Configure power fencing (hypervisor, cloud or out-of-band power-off) or network fencing for the source.' },
  },
];
