// While a pair is failed over, its moved DNS records must keep pointing at the target: a source
// that comes back (its own dynamic DNS registration), an administrator or a script may change
// them back, and clients would then reach the old source again (split brain). Every round this
// job reads the moved records through the DNS executor's agent and, where one differs from what
// the failover set, sets it again (conditional on what it holds now) and says so in the pair's
// events. Agent calls never run inside a database transaction.
import type { AgentBus } from '@tandem/agent-bus';
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent, withTenant, type Db, type TenantTx } from '@tandem/db';
import { describeRecord, operationInFlightStatuses, sameRecords, settingsFromColumns, type DnsChange, type DnsRecordData } from '@tandem/engine';
import { dnsAccess, DNS_SERVER_DEADLINE_MS, failoverDnsChanges, queryDns } from '../operations/plan-runbook.ts';

/** How often the moved records are checked; TANDEM_DNS_REASSERT_MS overrides it (tests). */
export function dnsReassertIntervalMs(): number {
  const fromEnv = Number(process.env.TANDEM_DNS_REASSERT_MS);
  return Number.isInteger(fromEnv) && fromEnv >= 100 ? fromEnv : 30_000;
}

const shown = (records: DnsRecordData[]) => (records.length ? records.map(describeRecord).join(', ') : 'no record');

interface FailedOverRow {
  pairId: string;
  organizationId: string;
  customerId: string;
}

/** The last failure logged per pair. */
const lastFailure = new Map<string, string>();

/** `onlyOrganizationId`: check one organization's pairs only (tests running side by side in one database). */
export async function reassertDns(db: Db, bus: AgentBus, now: () => Date = () => new Date(), onlyOrganizationId?: string): Promise<{ checked: number; reasserted: number; failed: number }> {
  // SECURITY DEFINER reader over all tenants; everything below is tenant-scoped.
  const all = await db.$queryRaw<FailedOverRow[]>`SELECT "pairId", "organizationId", "customerId" FROM pairs_failed_over()`;
  const rows = onlyOrganizationId ? all.filter((r) => r.organizationId === onlyOrganizationId) : all;
  const result = { checked: 0, reasserted: 0, failed: 0 };
  for (const row of rows) {
    try {
      const n = await reassertPair(db, bus, row, now);
      if (n === null) continue;
      result.checked++;
      result.reasserted += n;
    } catch (err) {
      // One pair's DNS servers being away must not stop the others; the next round tries again.
      result.failed++;
      const message = err instanceof Error ? err.message : String(err);
      // Logged when the reason changes, not every round.
      if (lastFailure.get(row.pairId) !== message) console.error(`[worker] DNS re-check of pair ${row.pairId} failed: ${message}`);
      lastFailure.set(row.pairId, message);
      continue;
    }
    lastFailure.delete(row.pairId);
  }
  return result;
}

/** The number of RRsets set again, or null when the pair has nothing to check. */
async function reassertPair(db: Db, bus: AgentBus, row: FailedOverRow, now: () => Date): Promise<number | null> {
  const tx = <T>(fn: (t: TenantTx) => Promise<T>) => withTenant({ organizationId: row.organizationId, customerId: row.customerId, userId: null }, fn, db);
  const pair = await tx((t) => t.protectionPair.findUnique({ where: { id: row.pairId } }));
  if (!pair || pair.status !== 'failed_over') return null;
  let settings;
  try {
    settings = settingsFromColumns(pair);
  } catch {
    return null; // An incomplete configuration moved no DNS records Tandem could know of.
  }
  if (settings.failover.type !== 'dns') return null;
  const changes = await failoverDnsChanges(tx, pair.id);
  if (changes.length === 0) return null;

  const orgTx = <T>(fn: (t: TenantTx) => Promise<T>) => withTenant({ organizationId: row.organizationId, customerId: null, userId: null }, fn, db);
  const access = await dnsAccess(tx, orgTx, settings, pair);
  const current = await queryDns(bus, access, changes);
  const drifted: { change: DnsChange; holds: { ttl: number; records: DnsRecordData[] } }[] = [];
  for (const c of changes) {
    const held = current.find((r) => r.name === c.name && r.type === c.type);
    if (!held || sameRecords(held.records, c.after.records)) continue;
    drifted.push({ change: c, holds: { ttl: held.ttl, records: held.records } });
  }

  let changed = drifted;
  if (drifted.length > 0) {
    // A failback that began since the pair was read owns the records now: leave them to it.
    const stillFailedOver = await tx(async (t) => {
      const latest = await t.protectionPair.findUnique({ where: { id: pair.id }, select: { status: true } });
      const busy = await t.operation.count({ where: { pairId: pair.id, status: { in: [...operationInFlightStatuses] } } });
      return latest?.status === 'failed_over' && busy === 0;
    });
    if (!stillFailedOver) return null;
    // Conditional on what the zone holds now: a change made meanwhile is a conflict, tried next round.
    const applied = await bus.send(
      access.agentId,
      'dns.apply',
      {
        provider: access.provider,
        servers: access.servers,
        timeoutMs: DNS_SERVER_DEADLINE_MS,
        ...(access.tsig ? { tsig: access.tsig } : {}),
        ...(access.account ? { account: access.account } : {}),
        changes: drifted.map(({ change, holds }) => ({ zone: change.zone, name: change.name, type: change.type, before: holds, after: change.after })),
      },
      { timeoutMs: DNS_SERVER_DEADLINE_MS * access.servers.length + 5_000 },
    );
    // Another checker (a second worker) may have set it first: only what this call changed is reported.
    changed = drifted.filter(({ change }) => applied.changes.some((a) => a.outcome === 'changed' && a.name === change.name && a.type === change.type));
  }

  const at = now();
  const still = await tx(async (t) => {
    const { count } = await t.protectionPair.updateMany({ where: { id: pair.id, status: 'failed_over' }, data: { dnsCheckedAt: at } });
    if (count === 0) return false;
    for (const { change, holds } of changed) {
      await emitEvent(t, {
        organizationId: pair.organizationId,
        customerId: pair.customerId,
        pairId: pair.id,
        at,
        kind: 'status',
        severity: 'warning',
        message: `${change.name} (${change.type}) had been changed back to ${shown(holds.records)}; Tandem re-asserted ${shown(change.after.records)} (the target serves while the pair is failed over)`,
        evidence: { zone: change.zone, name: change.name, type: change.type, found: holds, reasserted: change.after },
      });
    }
    return true;
  });
  if (still && changed.length) void publishPairChange(pair, pair.id, 'event');
  return changed.length;
}
