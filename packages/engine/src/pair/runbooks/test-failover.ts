import type { PairSettings, ReplicationMethod } from '../settings.ts';
import type { PlannedStep, Runbook } from '../plans.ts';
import { defaultProbes, probeLabels, rowCountKey, type Probe } from '../testing.ts';
import { refuse } from './common.ts';

// The test failover runbook: prove the target could take over, without taking production down.
// Replication keeps running and the source is never written: the probes run against a copy of
// the replica (files) or a temporary promoted copy of the standby (PostgreSQL), and the copy is
// always removed at the end (the teardown step runs also after a failed step or a crash).

export interface TestFailoverPlanInput {
  method: ReplicationMethod;
  settings: PairSettings;
  sourceHostname: string;
  targetHostname: string;
  /** The pair's status: a test needs a running replica (protected or mirroring done). */
  status: string;
  targetAgentOnline: boolean;
}

/** Statuses in which a test failover may run: the target holds a replica that keeps up. */
export const testFailoverStatuses = ['protected'] as const;
/** Replication methods whose replica a test failover can copy and probe. */
export const testFailoverMethods: readonly string[] = ['file', 'postgresql_streaming'];

export function probeDescription(p: Probe, targetHostname: string): string {
  switch (p.kind) {
    case 'files-match':
      return `Probe: ${p.sample} sampled files in the copy have the same SHA-256 as on the source`;
    case 'paths-exist':
      return `Probe: ${p.paths.length === 1 ? p.paths[0] : `${p.paths.length} paths`} exist${p.paths.length === 1 ? 's' : ''} in the copy`;
    case 'sql-rows':
      return `Probe: “${p.query.length > 60 ? `${p.query.slice(0, 57)}…` : p.query}” returns rows in database ${p.database} of the copy`;
    case 'row-count':
      return `Probe: the row count of ${p.table} in the copy is within the replication lag`;
    case 'tcp':
      return `Probe: ${p.host ?? targetHostname} answers on TCP port ${p.port ?? 'of the copy'}`;
    case 'hook':
      return `Probe: the test script exits 0 on ${targetHostname}`;
    default:
      return probeLabels[(p as Probe).kind];
  }
}

export function planTestFailover(i: TestFailoverPlanInput): Runbook {
  const { settings, method } = i;
  if (!(testFailoverStatuses as readonly string[]).includes(i.status)) {
    throw refuse(`A test failover needs a protected pair (this one is ${i.status.replace(/_/g, ' ')}): the target must hold a complete replica`);
  }
  if (!i.targetAgentOnline) throw refuse(`The agent on ${i.targetHostname} must be online to make and probe the test copy`);
  if (!testFailoverMethods.includes(method)) throw refuse('Test failover is built for file and PostgreSQL pairs');
  const probes = settings.testing.probes.length > 0 ? settings.testing.probes : defaultProbes(method);

  const steps: PlannedStep[] = [
    { kind: 'agents.check', description: `Check that the agent on ${i.targetHostname} is online`, params: { sides: ['target'] } },
    { kind: 'test.lag', description: 'Record the replication lag before the test', params: { moment: 'before' } },
  ];
  if (method === 'file') {
    const roots = settings.replicationSet?.roots ?? [];
    if (roots.length === 0) throw refuse('This pair has no replication set to copy');
    steps.push({
      kind: 'test.copy',
      description: `Copy the replica on ${i.targetHostname} at this moment into a scratch directory (${settings.testing.copyMethod === 'auto' ? 'copy-on-write where the filesystem allows' : 'plain copy'}); replication keeps running`,
      params: { method: settings.testing.copyMethod, roots, targetRoot: settings.connection.targetRoot },
    });
  } else {
    if (!settings.connection.database) throw refuse('This pair does not say which PostgreSQL instances to use; edit its configuration');
    const countTables = probes.flatMap((p) => (p.kind === 'row-count' ? [rowCountKey(p)] : []));
    steps.push({
      kind: 'test.postgresql-copy',
      description: `Make a temporary copy of the standby on ${i.targetHostname} (base backup from the standby, started on a spare port and promoted); the standby keeps streaming`,
      params: { countTables: [...new Set(countTables)] },
    });
  }
  probes.forEach((probe, index) => steps.push({ kind: 'test.probe', description: probeDescription(probe, i.targetHostname), params: { index, probe } }));
  steps.push(
    { kind: 'test.lag', description: 'Record the replication lag during the test', params: { moment: 'during' } },
    { kind: 'test.teardown', description: `Remove the test copy from ${i.targetHostname}`, params: {}, cleanup: true },
    { kind: 'test.lag', description: 'Record the replication lag after the test', params: { moment: 'after' }, optional: true, cleanup: true },
  );
  // Nothing a test does reaches clients: every step can be undone by the teardown.
  return { steps, pointOfNoReturn: null };
}
