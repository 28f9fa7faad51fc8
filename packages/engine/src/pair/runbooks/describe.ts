import { z } from 'zod';
import { describeRecord, type DnsRecordData } from '../../dns/records.ts';
import { transition, statusesAllowing, type LifecycleEvent } from '../lifecycle.ts';
import { pairStatusInfo } from '../status.ts';
import type { PlannedStep, Runbook } from '../plans.ts';

// The dry-run diff: every change a runbook makes, in the order it makes them, and which of them
// lie past the point of no return. The portal shows it before a failover starts and beside the
// live timeline; it is computed from the stored steps, so the diff and the run cannot disagree.

export const changeKinds = ['dns', 'address', 'service', 'cluster', 'database', 'hook', 'replication', 'state', 'check'] as const;
export type ChangeKind = (typeof changeKinds)[number];

/** One change of the dry-run diff (Operation.changes holds a list of these; read it back with this schema). */
export const changeItemSchema = z.strictObject({
  /** The index of the step that makes this change. */
  position: z.number().int().min(0),
  kind: z.enum(changeKinds),
  side: z.enum(['source', 'target', 'dns']).nullable(),
  summary: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
  pastPointOfNoReturn: z.boolean(),
});
export type ChangeItem = z.infer<typeof changeItemSchema>;

const records = (ttl: number, r: readonly DnsRecordData[]) =>
  r.length === 0 ? 'no record' : `${r.map(describeRecord).join(', ')} (TTL ${ttl} s)`;

/** The status an event leads to, when every status it is allowed in leads to the same one. */
function statusAfter(event: LifecycleEvent): string | null {
  const next = new Set(
    statusesAllowing(event).map((s) => {
      const t = transition(s, event);
      return 'status' in t ? t.status : null;
    }),
  );
  const [only] = [...next];
  return next.size === 1 && only ? pairStatusInfo[only].label : null;
}

function itemsOf(step: PlannedStep): Omit<ChangeItem, 'position' | 'pastPointOfNoReturn'>[] {
  const one = (kind: ChangeKind, side: ChangeItem['side'], before: string | null = null, after: string | null = null) => [
    { kind, side, summary: step.description, before, after },
  ];
  switch (step.kind) {
    case 'agents.check':
    case 'replication.check-set':
      return one('check', null);
    case 'pair.set-state':
      return one('state', null, null, statusAfter(step.params.event));
    case 'pair.set-monitoring':
      return one('state', null, null, step.params.monitoringStatus === 'off' ? 'Not monitored' : 'Monitoring');
    case 'hook.run':
      return one('hook', step.params.side);
    case 'services.stop':
      return step.params.services.map((s) => ({
        kind: 'service' as const,
        side: step.params.side,
        summary: `Stop ${s}`,
        before: null,
        after: `stopped, ${step.params.startMode} start`,
      }));
    case 'services.start':
      return step.params.services.map((s) => ({
        kind: 'service' as const,
        side: step.params.side,
        summary: `Start ${s}`,
        before: null,
        after: 'running, automatic start',
      }));
    case 'replication.start':
    case 'monitor.start':
      return one('replication', step.params.side, null, 'running');
    case 'replication.stop':
    case 'monitor.stop':
      return one('replication', step.params.side, null, 'stopped');
    case 'replication.drain':
    case 'replication.restore':
    case 'replication.verify':
      return one('replication', null);
    case 'dns.apply':
      return step.params.changes.map((c) => ({
        kind: 'dns' as const,
        side: 'dns' as const,
        summary: `${c.name} (${c.type}) in ${c.zone}`,
        before: records(c.before.ttl, c.before.records),
        after: records(c.after.ttl, c.after.records),
      }));
    case 'dns.lower-ttl':
      return step.params.records.map((r) => ({
        kind: 'dns' as const,
        side: 'dns' as const,
        summary: `${r.name} (${r.type}) in ${r.zone}`,
        before: null,
        after: `TTL at most ${step.params.ttlSeconds} s`,
      }));
    case 'address.ensure':
      return one(
        'address',
        step.params.side,
        null,
        step.params.present
          ? `${step.params.address}/${step.params.prefix} present${step.params.interface ? ` on ${step.params.interface}` : ''}`
          : `${step.params.address} absent`,
      );
    case 'postgresql.promote':
      return one('database', step.params.side, 'standby', 'primary (accepts writes)');
    case 'postgresql.follow':
      return one('database', step.params.side, null, 'standby of the other side');
    case 'postgresql.wait-caught-up':
      return one('database', step.params.side);
    case 'postgresql.stop':
      return one('database', step.params.side, null, 'stopped');
    case 'postgresql.prepare-source':
      return one('database', 'source');
    case 'postgresql.clone-standby':
      return one('database', 'target', null, 'standby');
    case 'cluster.resource': {
      const p = step.params;
      return [
        {
          kind: 'cluster' as const,
          side: p.side,
          summary: `${p.state === 'online' ? 'Bring online' : 'Take offline'}: cluster ${p.kind} ${p.resource}`,
          before: null,
          after: p.state === 'online' ? `online${p.node ? ` on node ${p.node}` : ''}` : 'offline',
        },
      ];
    }
    case 'cluster.snapshot':
      // Changes nothing in the cluster: a copy of its configuration is kept in Tandem.
      return [{ kind: 'cluster' as const, side: step.params.side, summary: step.description, before: null, after: 'configuration kept as a version' }];
    case 'test.lag':
    case 'test.probe':
      return one('check', null);
    case 'test.copy':
    case 'test.postgresql-copy':
      return one('database', 'target', null, 'temporary test copy');
    case 'test.teardown':
      return one('database', 'target', 'temporary test copy', 'removed');
  }
}

/** One item per change, in run order; a dns.apply step gives one per RRset, a services step one per service. */
export function describeChanges(runbook: Runbook): ChangeItem[] {
  const pnr = runbook.pointOfNoReturn;
  return runbook.steps.flatMap((step, position) =>
    itemsOf(step).map((item) => ({ position, ...item, pastPointOfNoReturn: pnr !== null && position >= pnr })),
  );
}
