import type { CheckDef } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { codeMonitorMethodOf } from '../vocabulary.ts';

// The `monitor` family (catalogue §2.8, §4.5): failure detection and what happens when it fires.

/** The most missed beats the pair settings accept (monitorSettingsSchema). */
const MAX_MISSED = 100;
/** Detection and fencing matter only for pairs that may fail over. */
const failoverEnabled = (snap: FactsSnapshot) => snap.pair.failover.enabled;

export const monitorChecks: CheckDef[] = [
  {
    id: 'monitor.icmp-blocked',
    family: 'monitor',
    title: 'ICMP echo blocked',
    detects: 'The monitor pings the source (ICMP echo), but the echoes from the target to a monitored source address go unanswered while the agent heartbeat works: the source would look lost although it is up.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['P', 'R.monitorProbe'],
    when: failoverEnabled,
    evaluate: (ctx) => {
      const m = ctx.snap.pair.monitor;
      const probe = ctx.snap.replication.monitorProbe!;
      if (m.method !== 'icmp' || probe.icmpOk !== false || probe.agentOk !== true) return [];
      return [{ subject: 'setting=monitor.method', message: `ICMP echoes from the target to ${m.addresses.join(', ') || 'the source'} go unanswered, while the agent heartbeat answers.`, evidence: { method: m.method, icmpOk: probe.icmpOk, agentOk: probe.agentOk, addresses: m.addresses } }];
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: false,
      plan: () => [{ action: 'pair.set', key: 'failover.monitor.method', value: codeMonitorMethodOf('agent-heartbeat'), description: 'Monitor the source through the agent heartbeat instead of ICMP echo', before: 'icmp', after: 'agent-heartbeat' }],
    },
    legacy: ['ICMP may be blocked'],
  },
  {
    id: 'monitor.window-short-for-cluster',
    family: 'monitor',
    title: 'Detection faster than the cluster’s own failover',
    detects: 'The source is clustered and the detection window (interval × missed beats) is shorter than the time the cluster takes to move its role: a routine node switch would look like a site loss.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P', 'C.src'],
    when: failoverEnabled,
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!.source;
      const m = ctx.snap.pair.monitor;
      if (!c || c.failoverSeconds === null) return [];
      const window = m.intervalSeconds * m.missed;
      if (window >= c.failoverSeconds) return [];
      return [{ subject: 'setting=monitor.missed', message: `Failures are detected after ${window} s, but the source cluster takes ${c.failoverSeconds} s to move its role.`, evidence: { intervalSeconds: m.intervalSeconds, missed: m.missed, windowSeconds: window, clusterFailoverSeconds: c.failoverSeconds } }];
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: false,
      plan: (ctx) => {
        const m = ctx.snap.pair.monitor;
        const failover = ctx.snap.cluster!.source!.failoverSeconds!;
        // Absolute value: enough beats to cover the cluster's move plus one interval of cushion.
        const missed = Math.ceil((failover + m.intervalSeconds) / m.intervalSeconds);
        if (missed > MAX_MISSED) return [];
        return [{ action: 'pair.set', key: 'failover.monitor.missed', value: missed, description: `Allow ${missed} missed beats (${missed * m.intervalSeconds} s) before the source counts as lost`, before: String(m.missed), after: String(missed) }];
      },
    },
    legacy: ['Failover delay cushion for clusters'],
  },
  {
    id: 'monitor.failover-pending-approval',
    family: 'monitor',
    title: 'Failover waiting for approval',
    detects: 'The failover condition has been met and the pair waits for an operator’s decision; until then enabling, disabling and reconfiguring the pair are refused.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['R.pendingFailover', 'P'],
    evaluate: (ctx) => (ctx.snap.replication.pendingFailover ? [{ subject: `pair=${ctx.snap.pair.name}`, message: `${ctx.snap.pair.name} lost its source and waits for a failover decision.`, evidence: { pendingFailover: true } }] : []),
    fix: { kind: 'manual', guidance: 'Open the incident view and approve or dismiss the pending failover.' },
  },
  {
    id: 'monitor.automatic-without-fencing',
    family: 'monitor',
    title: 'Automatic failover without fencing',
    detects: 'Failover runs without approval, and no fencing method (DNS record fencing, hypervisor or cloud power-off, out-of-band management, cluster fencing) stops a returning source from reclaiming its name, address or data.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['P'],
    when: failoverEnabled,
    evaluate: (ctx) => {
      const p = ctx.snap.pair;
      if (p.failover.approvalRequired) return [];
      // DNS record fencing needs a zone that takes dynamic updates; when the dry run ran and shows
      // none, that method cannot fence. (D is read only when present: pairs without DNS failover have none.)
      const zone = ctx.snap.dns?.zone;
      const effective = p.fencing.filter((f) => !(f === 'dns' && zone && zone.dynamicUpdate === 'none'));
      if (effective.length) return [];
      return [{ subject: `pair=${p.name}`, message: `${p.name} fails over without approval, and nothing fences a source that comes back.`, evidence: { approvalRequired: false, fencing: p.fencing, zoneDynamicUpdate: zone?.dynamicUpdate ?? null } }];
    },
    fix: { kind: 'manual', guidance: 'Configure a fencing method (DNS record fencing, power-off through the hypervisor or cloud, out-of-band management, or cluster fencing), or require approval before failover.' },
  },
];
