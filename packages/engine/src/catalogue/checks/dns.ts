import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { DnsDryRun, FactsSnapshot } from '../snapshot.ts';
import { dnsFailover, dnsKey, isLoopback, sameAddress, sameSubnet, sourceAddressRecords, sourceFqdn } from './failover-util.ts';

// The `dns` family (catalogue §2.9, §4.6): can a DNS failover rewrite the source's records, and
// will clients follow? Every row applies only when the pair's failover mode is dns. Most rows read
// the DNS executor's dry run (D); its two gates report a dry run that reached no server or ran out
// of time, and then every row reading D is unknown (facts.ts treats such a run as missing).

const D = (ctx: CheckContext) => ctx.snap.dns!;
const base = { family: 'dns', appliesTo: ['any'] as CheckDef['appliesTo'], when: dnsFailover };
const recordSubject = (r: { type: string; name: string }) => `record=${r.type} ${dnsKey(r.name)}`;
const endpoint = (snap: FactsSnapshot) => snap.dns?.provider.endpoint ?? snap.pair.dns.servers[0] ?? 'the DNS provider';
const isFqdnOrAddress = (s: string) => {
  const host = s.replace(/^\[|\](:\d+)?$/g, '').replace(/:\d+$/, '');
  return host.includes('.') || host.includes(':');
};

/** Records whose TTL the failover changes: every record of the dry run (source A/AAAA and the others it moves). */
const changedRecords = (d: DnsDryRun) => d.records;

const gateBase = { ...base, scope: ['dns'] as CheckDef['scope'], severity: 'warning' as const, gate: true as const };

export const dnsChecks: CheckDef[] = [
  {
    ...base,
    id: 'dns.provider-unavailable',
    title: 'No usable DNS provider for the zone',
    detects: 'DNS failover is selected, but no provider serves the zone holding the source record, or the server offers no update path the agent can use (dynamic updates refused, no management interface).',
    scope: ['dns'],
    severity: 'error',
    facts: ['P', 'D'],
    evaluate: (ctx) => {
      const d = D(ctx);
      const zone = ctx.snap.pair.dns.zone;
      if (!d.zone) return [{ subject: `zone=${dnsKey(zone)}`, message: `The DNS server ${d.provider.endpoint} holds no zone for the source name (expected ${zone}).`, evidence: { zone, provider: d.provider.kind, endpoint: d.provider.endpoint, zoneFound: false } }];
      if (d.zone.dynamicUpdate === 'none') return [{ subject: `zone=${dnsKey(d.zone.name)}`, message: `The zone ${d.zone.name} accepts no dynamic updates, so a failover cannot change its records.`, evidence: { zone: d.zone.name, provider: d.provider.kind, dynamicUpdate: 'none' } }];
      return [];
    },
    fix: {
      kind: 'manual',
      guidance:
        'Give the zone an update path Tandem can use:\n\n- **BIND, Knot, PowerDNS (RFC 2136):** allow TSIG-signed dynamic updates for the source name and store the key.\n- **Windows DNS:** enable the `dns` module on an agent allowed to manage the server.\n- **Cloud DNS:** store the hosted-zone id and an API credential.\n\nThen validate again.',
    },
    legacy: ['EX-25', 'SQL-22'],
  },
  {
    ...gateBase,
    id: 'dns.provider-unreachable',
    title: 'DNS server does not answer',
    detects: 'None of the configured DNS servers or API endpoints answered the DNS executor (wrong name, server down, port 53 or 443 filtered). The DNS rows that need its answers are unknown.',
    facts: ['P'],
    evaluate: (ctx) => {
      const d = ctx.snap.dns;
      if (!d || d.timedOut || d.attempts.some((a) => a.answered)) return [];
      return [
        {
          subject: `provider=${endpoint(ctx.snap)}`,
          message: `No DNS server answered the DNS executor: ${d.attempts.map((a) => `${a.server} (${a.error ?? 'no answer'})`).join(', ') || 'none was tried'}.`,
          evidence: { attempts: d.attempts.map((a) => ({ server: a.server, role: a.role, error: a.error })), servers: ctx.snap.pair.dns.servers, executor: ctx.snap.pair.dns.executorServerId ?? 'target agent' },
        },
      ];
    },
    fix: { kind: 'manual', guidance: 'Correct the server names or the API endpoint in the pair’s DNS settings, or open TCP/UDP 53 (443 for cloud APIs) from the DNS executor agent to them, then validate again.' },
    legacy: ['EX-31', 'SQL-28'],
  },
  {
    ...base,
    id: 'dns.primary-unavailable',
    title: 'Primary DNS server did not answer',
    detects: 'The primary server gave no answer within 10 s and a secondary did; validation used the secondary’s data.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D'],
    evaluate: (ctx) => {
      const d = D(ctx);
      const secondary = d.attempts.find((a) => a.role === 'secondary' && a.answered);
      if (!secondary) return [];
      return d.attempts
        .filter((a) => a.role === 'primary' && !a.answered)
        .map((a) => ({ subject: `server=${a.server}`, message: `The primary DNS server ${a.server} did not answer (${a.error ?? 'no answer'}); the secondary ${secondary.server} answered instead.`, evidence: { primary: a.server, error: a.error, answeredBy: secondary.server, zone: d.zone?.name ?? null } }));
    },
    fix: { kind: 'manual', guidance: 'Bring the primary server back before relying on failover: updates sent to a read-only secondary fail. Zones with several writable primaries (AD-integrated, multi-primary) can accept the update elsewhere, but the primary should still answer.' },
    legacy: ['EX-34', 'SQL-24'],
  },
  {
    ...base,
    id: 'dns.provider-not-authorized',
    title: 'DNS update refused',
    detects: 'The signed dry-run update was refused: a bad secret, a key the update policy does not allow, an account without rights on the zone, or a credential that cannot reach a zone of another domain.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'V', 'P'],
    evaluate: (ctx) => {
      const d = D(ctx);
      if (d.auth.ok !== false) return [];
      const cred = ctx.snap.vault.find((v) => v.purpose === 'dns' && v.id === ctx.snap.pair.dns.credentialId) ?? ctx.snap.vault.find((v) => v.purpose === 'dns');
      const zone = d.zone?.name ?? ctx.snap.pair.dns.zone;
      return [{ subject: `zone=${dnsKey(zone)}`, message: `The DNS server refused the test update for ${zone}: ${d.auth.error ?? 'not authorised'}.`, evidence: { zone, error: d.auth.error, credential: cred ? { id: cred.id, kind: cred.kind } : null } }];
    },
    fix: { kind: 'manual', guidance: 'Grant the stored DNS credential the narrowest right that lets it update the source’s records in this zone (a TSIG key in the zone’s update policy, DnsAdmins or a zone delegation, record-set write in the cloud), check the secret, then validate again.' },
    legacy: ['EX-30', 'SQL-27', 'HP: file server DNS in the parent domain'],
  },
  {
    ...gateBase,
    id: 'dns.validation-timeout',
    title: 'DNS dry run timed out',
    detects: 'The dry run did not finish across all servers within its fixed 30 s budget. The DNS rows that need its answers are unknown.',
    facts: ['P'],
    evaluate: (ctx) => {
      const d = ctx.snap.dns;
      const g = ctx.snap.gatherers.dns;
      const timedOut = d ? d.timedOut : !!g && !g.ok && /time ?out|timed out|deadline|budget/i.test(g.error ?? '');
      if (!timedOut) return [];
      return [{ subject: `provider=${endpoint(ctx.snap)}`, message: `The DNS dry run did not finish within 30 s${d ? ` (tried ${d.attempts.map((a) => a.server).join(', ') || 'no server'})` : `: ${g?.error}`}.`, evidence: { budgetSeconds: 30, attempts: d?.attempts.map((a) => ({ server: a.server, role: a.role, answered: a.answered, error: a.error })) ?? [], error: d ? null : (g?.error ?? null) } }];
    },
    fix: { kind: 'manual', guidance: 'Check reachability and latency from the DNS executor agent to each configured DNS server (and remove servers that no longer exist), then validate again.' },
    legacy: ['EX-28', 'SQL-25'],
  },
  {
    ...base,
    id: 'dns.validation-failed',
    title: 'DNS change plan could not be verified',
    detects: 'A server answered, but the failover’s change could not be planned or verified: it is not authoritative for the zone, a server is named by a relative name, the wrong zone is configured, or the records changed during the test.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'P'],
    evaluate: (ctx) => {
      const d = D(ctx);
      const p = ctx.snap.pair.dns;
      const out: FindingDraft[] = [];
      const zone = dnsKey(d.zone?.name ?? p.zone);
      for (const s of p.servers.filter((s) => !isFqdnOrAddress(s))) out.push({ subject: `server=${s}`, message: `The DNS server “${s}” is a relative name; name it by its fully qualified name or address.`, evidence: { server: s } });
      if (d.zone && dnsKey(d.zone.name) !== dnsKey(p.zone)) out.push({ subject: `zone=${dnsKey(p.zone)}`, message: `The pair names the zone ${p.zone}, but the source record lives in ${d.zone.name}.`, evidence: { configured: p.zone, found: d.zone.name } });
      if (d.zone && !d.zone.authoritative) out.push({ subject: `zone=${zone}`, message: `The server that answered is not authoritative for ${d.zone.name} (a forwarder or a stale secondary).`, evidence: { zone: d.zone.name, authoritative: false, primary: d.zone.primary } });
      if (!d.planOk && !out.some((f) => f.subject === `zone=${zone}`)) out.push({ subject: `zone=${zone}`, message: `The DNS change plan could not be built or verified: ${d.planReason ?? 'no reason given'}.`, evidence: { zone, reason: d.planReason } });
      return out;
    },
    fix: { kind: 'manual', guidance: 'Point the pair at the zone’s authoritative primary by its fully qualified name, pick the zone that holds the source record, and validate again (records changing during the test also cause this).' },
    legacy: ['EX-27', 'SQL-31'],
  },
  {
    ...base,
    id: 'dns.source-record-missing',
    title: 'Source has no address record',
    detects: 'The authoritative server holds no A or AAAA record for the source’s name, so there is nothing to move at failover.',
    scope: ['dns'],
    severity: 'error',
    facts: ['D', 'P'],
    evaluate: (ctx) => {
      const name = sourceFqdn(ctx.snap);
      if (!name) return [{ subject: 'record=A (none)', message: 'The pair names no source DNS name for the failover to move.', evidence: { sourceName: null } }];
      if (sourceAddressRecords(ctx.snap).length) return [];
      return [{ subject: `record=A ${dnsKey(name)}`, message: `The DNS server has no A or AAAA record for ${name}.`, evidence: { sourceName: name, zone: D(ctx).zone?.name ?? null } }];
    },
    fix: { kind: 'manual', guidance: 'Create the source’s A/AAAA record in the zone, or correct the source name in the pair’s DNS settings.' },
    legacy: ['EX-32', 'SQL-29'],
  },
  {
    ...base,
    id: 'dns.failover-ip-not-in-dns',
    title: 'Failover address not in DNS',
    detects: 'A monitored or mapped source address is not among the source name’s A/AAAA values.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'P'],
    evaluate: (ctx) => {
      const values = sourceAddressRecords(ctx.snap).map((r) => r.value);
      if (!values.length) return []; // dns.source-record-missing reports it
      const p = ctx.snap.pair;
      const wanted = [...new Set([...p.monitor.addresses, ...p.ipMap.filter((m) => m.target !== null).map((m) => m.source)])];
      return wanted
        .filter((a) => !values.some((v) => sameAddress(v, a)))
        .map((a) => ({ subject: `address=${a}`, message: `The source address ${a} is monitored or mapped, but ${sourceFqdn(ctx.snap)} does not resolve to it.`, evidence: { address: a, recordValues: values } }));
    },
    fix: { kind: 'manual', guidance: 'Map that address to “none” in the pair’s DNS settings, or register it for the source name.' },
    legacy: ['EX-29', 'SQL-26'],
  },
  {
    ...base,
    id: 'dns.ip-map-invalid',
    title: 'Address map incomplete',
    detects: 'The source-to-target address map cannot produce a complete change: nothing selected, a selected address without a target, a target address missing on the target, two sources on one target, or a source record value neither mapped nor set to “none”.',
    scope: ['pair'],
    severity: 'error',
    facts: ['P', 'D', 'T.net'],
    evaluate: (ctx) => {
      const p = ctx.snap.pair;
      const map = p.ipMap;
      const out: FindingDraft[] = [];
      const mapped = map.filter((m) => m.target !== null);
      if (!mapped.length) return [{ subject: 'ipmap=empty', message: 'No source address is mapped to a target address, so the failover would change nothing.', evidence: { ipMap: map } }];
      const entryOf = (a: string) => map.find((m) => sameAddress(m.source, a));
      for (const a of p.monitor.addresses) {
        if (!entryOf(a)?.target) out.push({ subject: `address=${a}`, message: `The monitored source address ${a} has no target address in the map.`, evidence: { address: a, cause: 'no-target' } });
      }
      const targetAddrs = (ctx.snap.target!.interfaces ?? []).flatMap((i) => i.addresses.map((x) => x.address));
      for (const m of mapped) {
        if (!targetAddrs.some((t) => sameAddress(t, m.target!))) out.push({ subject: `address=${m.source}`, message: `${m.source} maps to ${m.target}, which is not configured on any interface of the target.`, evidence: { address: m.source, target: m.target, cause: 'target-not-configured' } });
        const clash = mapped.find((o) => o !== m && sameAddress(o.target!, m.target!));
        if (clash && mapped.indexOf(clash) < mapped.indexOf(m)) out.push({ subject: `address=${m.source}`, message: `${clash.source} and ${m.source} both map to ${m.target}.`, evidence: { address: m.source, target: m.target, alsoFrom: clash.source, cause: 'duplicate-target' } });
      }
      for (const r of sourceAddressRecords(ctx.snap)) {
        if (!entryOf(r.value)) out.push({ subject: `address=${r.value}`, message: `${r.name} resolves to ${r.value}, which the map neither maps nor sets to “none”.`, evidence: { address: r.value, record: `${r.type} ${r.name}`, cause: 'unmapped-record' } });
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Complete the address map in the pair’s DNS settings: every monitored address needs a target address configured on the target, no two sources may share a target, and every address the source name resolves to is either mapped or set to “none”.' },
    legacy: ['EX-36', 'SQL-30', 'HP: unique target address per monitored address'],
  },
  {
    ...base,
    id: 'dns.reverse-zone-missing',
    title: 'No updatable reverse zone',
    detects: 'No reverse zone the provider can update covers a source or target address, so its PTR record would stay as it is.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'P', 'S.net', 'T.net'],
    evaluate: (ctx) => {
      const d = D(ctx);
      const subnetOf = (addr: string, side: 'source' | 'target') => {
        for (const i of ctx.snap[side]!.interfaces ?? []) for (const a of i.addresses) if (sameSubnet(a.address, addr, a.prefix)) return `${a.address}/${a.prefix}`;
        return null;
      };
      const addrs = [...ctx.snap.pair.ipMap.map((m) => ({ a: m.source, side: 'source' as const })), ...ctx.snap.pair.ipMap.filter((m) => m.target).map((m) => ({ a: m.target!, side: 'target' as const }))];
      return addrs
        // One finding per address, also when a source address maps to itself.
        .filter(({ a }, i) => addrs.findIndex((x) => sameAddress(x.a, a)) === i)
        .filter(({ a }) => {
          const z = d.reverseZones.find((r) => sameAddress(r.address, a));
          return !z || !z.zone || !z.updatable;
        })
        .map(({ a, side }) => {
          const z = d.reverseZones.find((r) => sameAddress(r.address, a));
          return { subject: `address=${a}`, message: z?.zone ? `The reverse zone ${z.zone} covering the ${side} address ${a} cannot be updated by the provider.` : `No reverse zone covers the ${side} address ${a}; its PTR record would not change.`, evidence: { address: a, side, zone: z?.zone ?? null, updatable: z?.updatable ?? false, subnet: subnetOf(a, side) } };
        });
    },
    fix: { kind: 'manual', guidance: 'Create a reverse zone (in-addr.arpa or ip6.arpa) for that subnet on a server the provider can update, or accept that reverse lookups keep the old answer after failover.' },
    legacy: ['EX-26', 'SQL-23'],
  },
  {
    ...base,
    id: 'dns.resolver-mismatch',
    title: 'Resolvers take another path',
    detects: 'The executor’s resolvers, or the site resolvers declared for the tenant, answer the source name from elsewhere (another view, a forwarder, a stale conditional forwarder), so verification and clients may keep seeing the old address.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'X'],
    evaluate: (ctx) =>
      D(ctx)
        .resolverView.filter((r) => !r.matchesServer)
        .map((r) => ({ subject: `resolver=${r.resolver}`, message: `The resolver ${r.resolver}${ctx.snap.reference.policy.siteResolvers.includes(r.resolver) ? ' (a declared site resolver)' : ''} answers the source name differently from the updated server (${r.answers.join(', ') || 'no answer'}).`, evidence: { resolver: r.resolver, answers: r.answers, site: ctx.snap.reference.policy.siteResolvers.includes(r.resolver) } })),
    fix: { kind: 'manual', guidance: 'Make those resolvers forward to, or be served by, the zone Tandem updates (or fix the conditional forwarder), or declare the resolvers clients really use as the tenant’s site resolvers.' },
    legacy: ['EX-37', 'SQL-32'],
  },
  {
    ...base,
    id: 'dns.ttl-above-recommended',
    title: 'DNS TTL above the recommended maximum',
    detects: 'A record the failover will change has a TTL above the recommended maximum (300 s by default), so clients keep the old address for longer.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'P', 'X'],
    evaluate: (ctx) => {
      const max = ctx.snap.reference.policy.ttlMaxSeconds;
      return changedRecords(D(ctx))
        .filter((r) => r.ttl > max)
        .map((r) => ({ subject: recordSubject(r), message: `${r.type} ${r.name} has a TTL of ${r.ttl} s, above the recommended ${max} s.`, evidence: { type: r.type, name: r.name, ttl: r.ttl, maxSeconds: max } }));
    },
    fix: {
      kind: 'auto',
      phase: 4,
      blockedWhileProtected: false,
      plan: (ctx, f) => {
        const ttl = Math.min(ctx.snap.reference.policy.ttlMaxSeconds, ctx.snap.pair.dns.ttlTarget);
        const { type, name } = f.evidence as { type: string; name: string };
        return [{ action: 'dns.set-ttl', records: [{ type, name }], ttl, description: `Lower the TTL of ${type} ${name} to ${ttl} s now, ahead of any failover`, before: `${String(f.evidence.ttl)} s`, after: `${ttl} s` }];
      },
    },
    legacy: ['HP: TTL 300 s or less'],
  },
  {
    ...base,
    id: 'dns.fencing-unavailable',
    title: 'Source record cannot be fenced',
    detects: 'After failover a returning source could register its name again: the zone accepts unsigned dynamic updates, so no deny entry or key removal keeps it out.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'S.net'],
    evaluate: (ctx) => {
      const z = D(ctx).zone;
      if (z?.dynamicUpdate !== 'open') return [];
      const registering = (ctx.snap.source!.interfaces ?? []).filter((i) => i.registersInDns === true).map((i) => i.name);
      return [{ subject: `zone=${dnsKey(z.name)}`, message: `The zone ${z.name} accepts unsigned dynamic updates, so a returning source${registering.length ? ` (which registers itself from ${registering.join(', ')})` : ''} could reclaim its record after failover.`, evidence: { zone: z.name, dynamicUpdate: 'open', sourceRegistersFrom: registering } }];
    },
    fix: { kind: 'manual', guidance: 'Make the zone accept secure updates only (AD-integrated zones on Windows), or keep the source’s key out of the update policy, or turn off the source’s own DNS registration. Let the DNS credential edit record security so Tandem can place the deny entry.' },
  },
  {
    ...base,
    id: 'dns.fencing-residual',
    title: 'Leftover DNS fence on the source record',
    detects: 'A deny entry an earlier failover placed on the source record is still there although the pair is not failed over, so the source cannot maintain its own record.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D', 'P'],
    evaluate: (ctx) => {
      const state = ctx.snap.pair.state;
      if (ctx.snap.pair.failedOver || state === 'failing_over' || state === 'failed_over' || state === 'restoring' || state === 'failing_back') return [];
      return D(ctx).fenceEntries.map((e) => ({ subject: `record=${dnsKey(e.record)}`, message: `${e.record} still denies ${e.principal} from an earlier failover.`, evidence: { record: e.record, principal: e.principal, state } }));
    },
    fix: {
      kind: 'auto',
      phase: 4,
      blockedWhileProtected: false,
      plan: (_ctx, f) => {
        const { record, principal } = f.evidence as { record: string; principal: string };
        return [{ action: 'dns.fence.remove', record, principal, description: `Remove the deny entry for ${principal} from ${record}`, before: `deny ${principal}`, after: 'no deny entry' }];
      },
    },
  },
  {
    ...base,
    id: 'dns.private-nic-registers',
    title: 'Replication interface registers in DNS',
    detects: 'The interface that carries the replication route registers its address in DNS, so the node’s name may resolve to a private replication address.',
    scope: ['source', 'target'],
    severity: 'warning',
    facts: ['N.net', 'N.os', 'P'],
    evaluate: (ctx) => {
      const n = ctx.node!;
      const ifaces = (n.interfaces ?? []).filter((i) => i.addresses.some((a) => !isLoopback(a.address)));
      if (ifaces.length < 2) return []; // one interface: registering it is the normal case
      const route = ctx.snap.pair.route.address;
      const carrier = ifaces.find((i) => i.addresses.some((a) => sameAddress(a.address, route))) ?? ifaces.find((i) => i.addresses.some((a) => sameSubnet(a.address, route, a.prefix)));
      if (!carrier || carrier.registersInDns !== true) return [];
      return [{ subject: `interface=${carrier.name}`, message: `The interface ${carrier.name} on the ${ctx.side} ${n.hostname} carries the replication route and registers its address in DNS.`, evidence: { interface: carrier.name, addresses: carrier.addresses.map((a) => a.address), route, os: n.os!.family } }];
    },
    fix: {
      kind: 'conditional',
      phase: 4,
      blockedWhileProtected: 'target',
      decide: (ctx, f) => {
        const nic = String(f.evidence.interface);
        if (ctx.node!.os!.family !== 'windows') return { guidance: `Turn off dynamic DNS registration for ${nic} in the node’s own configuration (NetworkManager \`ipv4.dhcp-send-hostname\`/DDNS settings, dhclient \`do-forward-updates\`, or sssd \`dyndns_update\`), then validate again.` };
        return { plan: [{ action: 'net.set-dns-registration', node: ctx.side as 'source' | 'target', nic, register: false, description: `Stop ${nic} on ${ctx.node!.hostname} registering its address in DNS`, before: 'registers in DNS', after: 'does not register' }] };
      },
    },
  },
  {
    ...base,
    id: 'dns.hosts-file-override',
    title: 'Hosts file pins the source name',
    detects: 'The hosts file of the source or the target pins the source’s name to an address, so that node will not follow a DNS failover.',
    scope: ['source', 'target'],
    severity: 'warning',
    facts: ['N.hostsFile', 'P'],
    evaluate: (ctx) => {
      const fqdn = sourceFqdn(ctx.snap);
      if (!fqdn) return [];
      const names = new Set([dnsKey(fqdn), dnsKey(fqdn).split('.')[0]!]);
      return (ctx.node!.hostsFile ?? [])
        .filter((e) => !(ctx.side === 'source' && isLoopback(e.address)))
        .flatMap((e) => e.names.filter((n) => names.has(dnsKey(n))).map((n) => ({ subject: `hosts-entry=${e.address} ${dnsKey(n)}`, message: `The hosts file on the ${ctx.side} ${ctx.node!.hostname} pins ${n} to ${e.address}.`, evidence: { address: e.address, name: n } })));
    },
    fix: { kind: 'manual', guidance: 'Remove the static entry for the source name from that node’s hosts file (`/etc/hosts`, or `C:\\Windows\\System32\\drivers\\etc\\hosts`). Tandem never edits hosts files.' },
  },
  {
    ...base,
    id: 'dns.ttl-exceeds-rto',
    title: 'TTL and detection exceed the RTO',
    detects: 'The highest TTL of the records the failover changes, plus the detection window and the runbook’s p95 duration, is longer than the pair’s RTO.',
    scope: ['pair'],
    severity: 'warning',
    facts: ['D', 'P', 'R.runbookTimings'],
    evaluate: (ctx) => {
      const p = ctx.snap.pair;
      const recs = changedRecords(D(ctx));
      if (p.rtoSeconds === null || !recs.length) return [];
      const ttl = Math.max(...recs.map((r) => r.ttl));
      const detection = p.monitor.intervalSeconds * p.monitor.missed;
      const runbook = ctx.snap.replication.runbookP95Seconds!;
      const total = ttl + detection + runbook;
      if (total <= p.rtoSeconds) return [];
      return [{ subject: `rto=${p.rtoSeconds}s`, message: `Clients could wait up to ${total} s (TTL ${ttl} s + detection ${detection} s + runbook ${runbook} s), beyond the RTO of ${p.rtoSeconds} s.`, evidence: { rtoSeconds: p.rtoSeconds, maxTtl: ttl, detectionSeconds: detection, runbookP95Seconds: runbook } }];
    },
    fix: {
      kind: 'conditional',
      phase: 4,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        const e = f.evidence as { rtoSeconds: number; detectionSeconds: number; runbookP95Seconds: number };
        const t = Math.floor((e.rtoSeconds - e.detectionSeconds - e.runbookP95Seconds) / 10) * 10;
        if (t < 30) return { guidance: `The RTO of ${e.rtoSeconds} s cannot be met with DNS failover as configured: detection and the runbook alone take ${e.detectionSeconds + e.runbookP95Seconds} s. Shorten detection, speed up the runbook, or choose another failover method.` };
        const records = changedRecords(ctx.snap.dns!).filter((r) => r.ttl > t);
        return { plan: [{ action: 'dns.set-ttl', records: records.slice(0, 64).map((r) => ({ type: r.type, name: r.name })), ttl: t, description: `Lower the TTL of ${records.length} record(s) to ${t} s so a failover fits the RTO`, before: records.map((r) => `${r.type} ${r.name} ${r.ttl} s`).join(', '), after: `${t} s` }] };
      },
    },
  },
  {
    ...base,
    id: 'dns.alias-outside-provider',
    title: 'Alias outside the provider',
    detects: 'Records pointing at the source (CNAME, MX, SRV) sit in zones the configured provider cannot update, so the failover leaves them pointing at the source.',
    scope: ['dns'],
    severity: 'warning',
    facts: ['D'],
    evaluate: (ctx) =>
      D(ctx)
        .referrers.filter((r) => !r.managed)
        .map((r) => ({ subject: recordSubject(r), message: `${r.type} ${r.name} in ${r.zone} points at the source, but the DNS provider cannot update that zone.`, evidence: { type: r.type, name: r.name, zone: r.zone } })),
    fix: { kind: 'manual', guidance: 'Bring that zone under a DNS provider Tandem can update, or add a manual step to the runbook that changes the record at failover.' },
  },
];
