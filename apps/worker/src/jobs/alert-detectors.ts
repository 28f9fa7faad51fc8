// Alert condition detectors, run by the maintenance queue: an agent offline, a pair's lag above
// its customer's RPO, a credential about to expire, a scheduled test failover overdue. Each opens
// its condition once and clears it once: a cross-tenant reader (alert_condition_changes) lists
// only the conditions whose wanted state differs from what alerting last heard, and each is
// checked again under its lock (conditionChange) in its own tenant before the event is written.
import { emitEvent, withTenant, type Db, type EmitEvent, type TenantTx } from '@tandem/db';
import type { RuleEventType } from '@tandem/engine';
import { conditionChange } from './alert-conditions.ts';

/**
 * An agent must stay offline this long before it counts as offline for alerting. The gateway
 * marks an agent offline the moment its connection drops; a restart or a network blip reconnects
 * well within two minutes, and nobody should be woken for that.
 */
export const AGENT_OFFLINE_GRACE_SECONDS = 120;
/** A credential with an expiry date this close (or past) is reported. */
export const CREDENTIAL_WARNING_DAYS = 14;
/** A drill is overdue once it is this late with no test started (the drill job starts due drills every minute). */
export const TEST_OVERDUE_GRACE_SECONDS = 3600;
/** How often the detectors run. */
export const ALERT_DETECTORS_EVERY_MS = 60_000;

type DetectorType = Extract<RuleEventType, 'agent.offline' | 'lag.high' | 'credential.expiring' | 'test.overdue'>;

interface Change {
  type: DetectorType;
  organizationId: string;
  customerId: string | null;
  subjectId: string;
  state: 'open' | 'clear';
}

const utc = (d: Date) => d.toISOString().slice(0, -1);
const day = (d: Date) => d.toISOString().slice(0, 10);

export interface DetectorCounts {
  opened: number;
  cleared: number;
}

/** Runs every detector once. `onlyOrganizationId` limits the run to one organization (tests). */
export async function detectAlertConditions(db: Db, now: Date = new Date(), onlyOrganizationId?: string): Promise<DetectorCounts> {
  const rows = await db.$queryRaw<Change[]>`
    SELECT * FROM alert_condition_changes(${utc(now)}::timestamp, make_interval(secs => ${AGENT_OFFLINE_GRACE_SECONDS}),
                                          make_interval(days => ${CREDENTIAL_WARNING_DAYS}), make_interval(secs => ${TEST_OVERDUE_GRACE_SECONDS}))`;
  const counts: DetectorCounts = { opened: 0, cleared: 0 };
  for (const row of rows) {
    if (onlyOrganizationId && row.organizationId !== onlyOrganizationId) continue;
    // An organization-wide credential has no customer: its event is the organization's.
    const emitted = await withTenant({ organizationId: row.organizationId, customerId: row.customerId, userId: null }, async (tx) => {
      const condition = await conditionChange(tx, row.type, row.subjectId, row.state);
      if (!condition) return false;
      const event = await describe(tx, row, now);
      if (!event) return false;
      await emitEvent(tx, { organizationId: row.organizationId, customerId: row.customerId, at: now, condition, ...event });
      return true;
    }, db);
    if (emitted) counts[row.state === 'open' ? 'opened' : 'cleared']++;
  }
  return counts;
}

type Described = Omit<EmitEvent, 'organizationId' | 'customerId' | 'condition'>;

async function customerName(tx: TenantTx, customerId: string | null): Promise<{ customerName?: string }> {
  if (!customerId) return {};
  const c = await tx.customer.findUnique({ where: { id: customerId }, select: { name: true } });
  return c ? { customerName: c.name } : {};
}

const clearing: Record<DetectorType, Described['type']> = { 'agent.offline': 'agent.online', 'lag.high': 'lag.ok', 'credential.expiring': 'credential.renewed', 'test.overdue': 'test.done' };
const subjectLabel: Record<DetectorType, string> = { 'agent.offline': 'agent', 'lag.high': 'pair', 'credential.expiring': 'credential', 'test.overdue': 'test failover schedule' };

/** The event for one change, read in its tenant. A subject deleted while its condition was open clears it; one gone before opening says nothing. */
async function describe(tx: TenantTx, row: Change, now: Date): Promise<Described | null> {
  const open = row.state === 'open';
  const gone = (): Described | null =>
    open ? null : { type: clearing[row.type], severity: 'info', message: `The ${subjectLabel[row.type]} this alert was about was removed`, data: { removed: row.subjectId } };
  switch (row.type) {
    case 'agent.offline': {
      const agent = await tx.agent.findUnique({ where: { id: row.subjectId }, select: { lastSeenAt: true, status: true, server: { select: { id: true, hostname: true } } } });
      if (!agent) return gone();
      const host = agent.server.hostname;
      const since = agent.lastSeenAt ? ` (last heard from ${agent.lastSeenAt.toISOString()})` : '';
      return {
        type: open ? 'agent.offline' : 'agent.online',
        severity: open ? 'error' : 'info',
        message: open ? `The agent on ${host} is offline${since}` : agent.status === 'online' ? `The agent on ${host} is online again` : `The agent on ${host} was revoked`,
        subject: { kind: 'server', id: agent.server.id, name: host },
        data: { agentId: row.subjectId, lastSeenAt: agent.lastSeenAt?.toISOString() ?? null },
        ...(await customerName(tx, row.customerId)),
      };
    }
    case 'lag.high': {
      const pair = await tx.protectionPair.findUnique({ where: { id: row.subjectId }, select: { name: true, status: true, customer: { select: { name: true, rpoSeconds: true } } } });
      if (!pair) return gone();
      const sample = await tx.replicationSample.findFirst({ where: { pairId: row.subjectId }, orderBy: { at: 'desc' }, select: { at: true, lagSeconds: true } });
      const rpoSeconds = pair.customer.rpoSeconds;
      const lagSeconds = sample?.lagSeconds ?? null;
      const lag = lagSeconds === null ? null : Math.round(lagSeconds);
      let message: string;
      if (open) {
        message =
          lag !== null && lag > rpoSeconds
            ? `Replication lag of "${pair.name}" is ${lag} s, above the RPO of ${rpoSeconds} s`
            : `No replication report from "${pair.name}" for more than the RPO of ${rpoSeconds} s${sample ? ` (last at ${sample.at.toISOString()})` : ''}`;
      } else {
        message = ['mirroring', 'protected', 'failover_pending'].includes(pair.status)
          ? `Replication lag of "${pair.name}" is back within the RPO of ${rpoSeconds} s${lag !== null ? ` (${lag} s)` : ''}`
          : `Replication lag of "${pair.name}" no longer applies: the pair is ${pair.status.replace(/_/g, ' ')}`;
      }
      return {
        type: open ? 'lag.high' : 'lag.ok',
        severity: open ? 'warning' : 'info',
        kind: 'monitor',
        pairId: row.subjectId,
        message,
        subject: { kind: 'pair', id: row.subjectId, name: pair.name },
        pairName: pair.name,
        customerName: pair.customer.name,
        data: { lagSeconds: lag, rpoSeconds, sampledAt: sample?.at.toISOString() ?? null },
      };
    }
    case 'credential.expiring': {
      const cred = await tx.credential.findUnique({ where: { id: row.subjectId }, select: { name: true, expiresAt: true } });
      if (!cred) return gone();
      const expiresAt = cred.expiresAt;
      const past = expiresAt !== null && expiresAt <= now;
      return {
        type: open ? 'credential.expiring' : 'credential.renewed',
        severity: open ? (past ? 'error' : 'warning') : 'info',
        message: open
          ? `Credential "${cred.name}" ${past ? 'expired' : 'expires'} on ${day(expiresAt!)}`
          : expiresAt
            ? `Credential "${cred.name}" now expires on ${day(expiresAt)}`
            : `Credential "${cred.name}" no longer has an expiry date`,
        subject: { kind: 'credential', id: row.subjectId, name: cred.name },
        data: { credentialId: row.subjectId, expiresAt: expiresAt?.toISOString() ?? null },
        ...(await customerName(tx, row.customerId)),
      };
    }
    case 'test.overdue': {
      const drill = await tx.drillSchedule.findUnique({ where: { id: row.subjectId }, select: { pairId: true, nextDueAt: true, enabled: true, pair: { select: { name: true } } } });
      if (!drill) return gone();
      const names = await customerName(tx, row.customerId);
      const what = drill.pair ? `"${drill.pair.name}"` : `the pairs of ${names.customerName ?? 'the customer'}`;
      return {
        type: open ? 'test.overdue' : 'test.done',
        severity: open ? 'warning' : 'info',
        kind: 'operation',
        pairId: drill.pairId,
        message: open
          ? `The scheduled test failover of ${what} was due at ${drill.nextDueAt.toISOString()} and has not started`
          : drill.enabled
            ? `The scheduled test failover of ${what} is no longer overdue`
            : `The test failover schedule of ${what} was turned off`,
        subject: { kind: 'drill', id: row.subjectId, name: drill.pair ? drill.pair.name : (names.customerName ?? 'customer') },
        ...(drill.pair ? { pairName: drill.pair.name } : {}),
        data: { scheduleId: row.subjectId, nextDueAt: drill.nextDueAt.toISOString() },
        ...names,
      };
    }
  }
}
