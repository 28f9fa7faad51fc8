// The MSP dashboard (dashboard.summary): per-customer pair counts by status, worst current lag,
// pairs waiting for a failover decision, agents offline, and totals — from one SQL statement whose
// tenant isolation is PostgreSQL's row-level security.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { callerFor, expectCode } from './helpers';

type Status = 'unprotected' | 'validated' | 'mirroring' | 'protected' | 'failover_pending' | 'failing_over' | 'failed_over' | 'restoring' | 'failing_back';
type CustomerRef = { id: string; organizationId: string };

/** A pair between two fresh servers of the customer, with samples (seconds ago → lag). */
async function pair(customer: CustomerRef, status: Status, samples: [agoSeconds: number, lag: number | null][] = []) {
  const [source, target] = [await createServer(customer), await createServer(customer)];
  const p = await ownerDb().protectionPair.create({
    data: {
      organizationId: customer.organizationId,
      customerId: customer.id,
      name: `pair-${randomUUID().slice(0, 8)}`,
      sourceServerId: source.id,
      targetServerId: target.id,
      application: 'file_server',
      status,
    },
  });
  if (samples.length) {
    await ownerDb().replicationSample.createMany({
      data: samples.map(([ago, lag]) => ({
        organizationId: customer.organizationId,
        customerId: customer.id,
        pairId: p.id,
        at: new Date(Date.now() - ago * 1000),
        lagSeconds: lag,
      })),
    });
  }
  return { pair: p, source, target };
}

/** An agent on one of the customer's servers; a pending agent has never been seen. */
async function agentFor(customer: CustomerRef, serverId: string, status: 'pending' | 'online' | 'offline' | 'revoked') {
  return ownerDb().agent.create({
    data: { organizationId: customer.organizationId, customerId: customer.id, serverId, status, lastSeenAt: status === 'pending' ? null : new Date() },
  });
}

let a: Tenant;
let b: Tenant;
let empty: CustomerRef & { name: string };

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
  const x = a.customerX;
  const y = a.customerY;

  // Customer X of A: five pairs.
  // - protected, latest lag 4 s (an older sample had 900 s: only the latest counts);
  const p1 = await pair(x, 'protected', [[600, 900], [30, 12], [5, 4]]);
  // - mirroring, latest lag 42 s: the worst current lag of X;
  await pair(x, 'mirroring', [[60, 5], [2, 42]]);
  // - failover pending (waiting for a decision), latest lag 20 s;
  await pair(x, 'failover_pending', [[3, 20]]);
  // - failed over, latest lag 5000 s: not replicating, so its lag does not count;
  await pair(x, 'failed_over', [[1, 5000]]);
  // - unprotected, no samples.
  await pair(x, 'unprotected');
  // Agents of X: p1's source online, p1's target offline; serverX (from the tenant) has none.
  await agentFor(x, p1.source.id, 'online');
  await agentFor(x, p1.target.id, 'offline');

  // Customer Y of A: one protected pair lagging 400 s (over the attention threshold), one agent
  // enrolled but never connected.
  const py = await pair(y, 'protected', [[10, 100], [1, 400]]);
  await agentFor(y, py.source.id, 'online');
  await agentFor(y, py.target.id, 'pending');

  // A third customer of A with nothing at all.
  empty = await createCustomer(a.org.id, `Empty ${randomUUID().slice(0, 6)}`);

  // Organization B: pairs, lag and offline agents that A must never see.
  const pb = await pair(b.customerX, 'failover_pending', [[1, 99_999]]);
  await pair(b.customerX, 'protected', [[1, 88_888]]);
  await agentFor(b.customerX, pb.source.id, 'offline');
  await agentFor(b.customerX, pb.target.id, 'offline');
});

describe('dashboard.summary', () => {
  it('counts pairs by status, worst current lag, pending decisions and agents per customer', async () => {
    const d = await callerFor(a.owner.id).dashboard.summary();
    expect(d.customers.map((c) => c.id).sort()).toEqual([a.customerX.id, a.customerY.id, empty.id].sort());
    // Sorted by name.
    expect(d.customers.map((c) => c.name)).toEqual([...d.customers.map((c) => c.name)].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0)));

    const x = d.customers.find((c) => c.id === a.customerX.id)!;
    expect(x).toMatchObject({
      name: a.customerX.name,
      pairs: 5,
      servers: 11, // serverX + two per pair
      worstLagSeconds: 42,
      pending: 1,
      agentsOnline: 1,
      agentsOffline: 1,
      neverConnected: 9, // servers without an agent
      needsAttention: true,
    });
    expect(x.byStatus).toEqual({
      unprotected: 1,
      validated: 0,
      mirroring: 1,
      protected: 1,
      failover_pending: 1,
      failing_over: 0,
      failed_over: 1,
      restoring: 0,
      failing_back: 0,
    });

    const y = d.customers.find((c) => c.id === a.customerY.id)!;
    expect(y).toMatchObject({ pairs: 1, servers: 3, worstLagSeconds: 400, pending: 0, agentsOnline: 1, agentsOffline: 0, neverConnected: 2, needsAttention: true });
    expect(y.byStatus.protected).toBe(1);

    const e = d.customers.find((c) => c.id === empty.id)!;
    expect(e).toMatchObject({ pairs: 0, servers: 0, worstLagSeconds: null, pending: 0, agentsOffline: 0, neverConnected: 0, needsAttention: false });
    expect(Object.values(e.byStatus).every((n) => n === 0)).toBe(true);

    expect(d.totals).toMatchObject({
      customers: 3,
      needsAttention: 2,
      servers: 14,
      pairs: 6,
      worstLagSeconds: 400,
      pending: 1,
      agentsOnline: 2,
      agentsOffline: 1,
      neverConnected: 11,
    });
    expect(d.totals.byStatus.protected).toBe(2);
    expect(d.attentionLagSeconds).toBe(300);
  });

  it('follows changes: a new latest sample and a status change show on the next call', async () => {
    const c = await createCustomer(a.org.id, `Live ${randomUUID().slice(0, 6)}`);
    const { pair: p, source } = await pair(c, 'protected', [[5, 3]]);
    const agent = await agentFor(c, source.id, 'online');
    const before = (await callerFor(a.viewer.id).dashboard.summary()).customers.find((r) => r.id === c.id)!;
    expect(before).toMatchObject({ worstLagSeconds: 3, pending: 0, agentsOffline: 0, needsAttention: false });

    await ownerDb().replicationSample.create({ data: { organizationId: c.organizationId, customerId: c.id, pairId: p.id, at: new Date(), lagSeconds: 7 } });
    await ownerDb().protectionPair.update({ where: { id: p.id }, data: { status: 'failover_pending' } });
    await ownerDb().agent.update({ where: { id: agent.id }, data: { status: 'offline' } });
    const after = (await callerFor(a.viewer.id).dashboard.summary()).customers.find((r) => r.id === c.id)!;
    expect(after).toMatchObject({ worstLagSeconds: 7, pending: 1, agentsOffline: 1, agentsOnline: 0, needsAttention: true });
    expect(after.byStatus).toMatchObject({ protected: 0, failover_pending: 1 });
  });

  it('every org role may read it', async () => {
    for (const user of [a.owner, a.operator, a.viewer]) {
      const d = await callerFor(user.id).dashboard.summary();
      expect(d.customers.some((c) => c.id === a.customerX.id)).toBe(true);
    }
  });
});

describe('dashboard.summary isolation', () => {
  it('never counts another organization’s customers, pairs, samples or agents', async () => {
    const d = await callerFor(a.owner.id).dashboard.summary();
    const ids = d.customers.map((c) => c.id);
    expect(ids).not.toContain(b.customerX.id);
    expect(ids).not.toContain(b.customerY.id);
    expect(d.customers.every((c) => (c.worstLagSeconds ?? 0) < 88_888)).toBe(true);

    const other = await callerFor(b.owner.id).dashboard.summary();
    expect(other.customers.map((c) => c.id).sort()).toEqual([b.customerX.id, b.customerY.id].sort());
    const bx = other.customers.find((c) => c.id === b.customerX.id)!;
    expect(bx).toMatchObject({ pairs: 2, pending: 1, worstLagSeconds: 99_999, agentsOffline: 2 });
    expect(other.totals).toMatchObject({ customers: 2, pairs: 2, pending: 1, agentsOffline: 2 });
  });

  it('the workspace switch picks the organization: a member of two sees only the active one', async () => {
    await ownerDb().orgMembership.create({ data: { organizationId: b.org.id, userId: a.owner.id, role: 'viewer' } });
    try {
      const inB = await callerFor(a.owner.id, `org:${b.org.id}`).dashboard.summary();
      expect(inB.customers.map((c) => c.id).sort()).toEqual([b.customerX.id, b.customerY.id].sort());
      const inA = await callerFor(a.owner.id, `org:${a.org.id}`).dashboard.summary();
      expect(inA.customers.map((c) => c.id)).not.toContain(b.customerX.id);
    } finally {
      await ownerDb().orgMembership.deleteMany({ where: { organizationId: b.org.id, userId: a.owner.id } });
    }
  });

  it('a customer user is refused (FORBIDDEN); signed out is UNAUTHORIZED', async () => {
    await expectCode(callerFor(a.customerUser.id).dashboard.summary(), 'FORBIDDEN');
    await expectCode(callerFor(a.customerYUser.id).dashboard.summary(), 'FORBIDDEN');
    await expectCode(callerFor(null).dashboard.summary(), 'UNAUTHORIZED');
  });
});
