// What the pair page reads for its failover sections: pair.operations says which operations were
// dry runs (the history leaves them out) and who asked for each ("Tandem (automatic)" for the
// system; a customer user reads "Your service provider" for MSP staff); pair.get says when a returned source was held stopped.
import { beforeAll, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { callerFor } from './helpers';

let t: Tenant;
let pairId: string;

beforeAll(async () => {
  t = await createTenant();
  const target = await createServer(t.customerX, 'views-b');
  const pair = await ownerDb().protectionPair.create({
    data: { organizationId: t.org.id, customerId: t.customerX.id, name: 'Views pair', application: 'file_server', sourceServerId: t.serverX.id, targetServerId: target.id, status: 'failed_over' },
  });
  pairId = pair.id;
  const base = { organizationId: t.org.id, customerId: t.customerX.id, pairId, status: 'succeeded' as const };
  // Oldest first: a system failover, then an operator's dry run of a failback.
  await ownerDb().operation.create({ data: { ...base, kind: 'failover', createdAt: new Date(Date.now() - 60_000) } });
  await ownerDb().operation.create({ data: { ...base, kind: 'failback', dryRun: true, requestedById: t.operator.id } });
});

describe('pair.operations for the failover history', () => {
  it('marks dry runs and names who asked, the system as Tandem (automatic)', async () => {
    const ops = await callerFor(t.operator.id).pair.operations({ pairId });
    expect(ops.map((o) => ({ kind: o.kind, dryRun: o.dryRun, requestedBy: o.requestedBy }))).toEqual([
      { kind: 'failback', dryRun: true, requestedBy: t.operator.name },
      { kind: 'failover', dryRun: false, requestedBy: 'Tandem (automatic)' },
    ]);
  });

  it('tells a customer user (who does not see MSP staff) that their service provider asked', async () => {
    const ops = await callerFor(t.customerUser.id).pair.operations({ pairId });
    expect(ops.map((o) => o.requestedBy)).toEqual(['Your service provider', 'Tandem (automatic)']);
  });
});

describe('pair.get while failed over', () => {
  it('says when the returned source was held stopped, and null before', async () => {
    expect((await callerFor(t.operator.id).pair.get({ pairId })).sourceHeldAt).toBeNull();
    const at = new Date('2026-12-07T08:00:00.000Z');
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: { sourceHeldAt: at } });
    expect((await callerFor(t.customerUser.id).pair.get({ pairId })).sourceHeldAt).toBe(at.toISOString());
  });
});
