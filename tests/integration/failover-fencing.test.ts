// Fencing, with real agents, a real gateway, the worker and a real BIND 9. A protected file pair
// fails over while its source is down; when the old source's agent comes back (it persisted the
// pair and would replicate again), the gateway holds it stopped: replication and monitor of the
// pair stopped on it, its protected service stopped and set to manual start, sourceHeldAt set and
// an event written. While failed over, a record changed back behind Tandem's back (nsupdate with
// the zone's key) is re-asserted by the worker's periodic check, with an event that says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { callerFor } from './helpers';
import { waitFor } from './support/agents';
import { FailoverPair, SOURCE_ADDRESS, SOURCE_NAME, TARGET_ADDRESS } from './support/failover-pair';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;
// The moved records are checked every second here (every 30 s in production).
process.env.TANDEM_DNS_REASSERT_MS = '1000';

const f = new FailoverPair('fence');
let pairId: string;

beforeAll(async () => {
  await f.setup();
  const settings = f.settings();
  pairId = await f.createPair(settings, 'unprotected');
  await f.enable(pairId);
}, 180_000);

afterAll(async () => {
  await f.teardown();
});

describe('fencing after a failover', () => {
  it('fails over while the source is down; the target serves and DNS answers it', async () => {
    await f.stopSource();
    const pair = await f.pair(pairId);
    const { operationId } = await callerFor(f.h.t.operator.id).pair.failover.start({ pairId, mode: 'immediate', confirmName: pair.name });
    const op = await f.finished(operationId, 90_000);
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    expect((await f.pair(pairId)).status).toBe('failed_over');
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([TARGET_ADDRESS]);
    expect(await f.serviceRunning()).toBe(true);
  });

  it('the old source’s agent comes back and is held stopped', async () => {
    expect((await f.pair(pairId)).sourceHeldAt).toBeNull();
    await f.restartSource();
    const held = await waitFor('source held', async () => (await f.pair(pairId)).sourceHeldAt, 60_000);
    expect(held).toBeInstanceOf(Date);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId }, orderBy: { at: 'asc' } });
    const event = events.find((e) => e.message.includes('came back'));
    expect(event?.message).toMatch(/The old source .* came back and is held stopped/);
    expect(event?.severity).toBe('info');

    // On the old source: the pair's replication and monitor are not running.
    const replication = await f.h.bus.send(f.source.agentId, 'replication.status', { pairId });
    expect(replication).toMatchObject({ running: false });
    const monitor = await f.h.bus.send(f.source.agentId, 'monitor.status', { pairId });
    expect(monitor).toMatchObject({ running: false });
    // Its protected service is stopped and starts only by hand (one init script stands for both sides here).
    expect(await f.serviceRunning()).toBe(false);
    expect(f.serviceLinks()).toEqual([]);
    // The pair stays failed over: the target still serves.
    expect((await f.pair(pairId)).status).toBe('failed_over');
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([TARGET_ADDRESS]);
  });

  it('a record changed back behind Tandem’s back is re-asserted, with an event', async () => {
    await f.nsupdate([`update delete ${SOURCE_NAME} A`, `update add ${SOURCE_NAME} 300 A ${SOURCE_ADDRESS}`]);
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([SOURCE_ADDRESS]);
    const event = await waitFor(
      're-assert event',
      () => ownerDb().pairEvent.findFirst({ where: { pairId, message: { contains: 're-asserted' } } }),
      30_000,
    );
    expect(event.message).toContain(`${SOURCE_NAME} (A) had been changed back to ${SOURCE_ADDRESS}; Tandem re-asserted ${TARGET_ADDRESS}`);
    expect(event.severity).toBe('warning');
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([TARGET_ADDRESS]);
    expect((await f.pair(pairId)).dnsCheckedAt).toBeInstanceOf(Date);
    // Nothing else in the zone was touched: the reverse name still follows the failover.
    expect(await f.bind.dig(TARGET_ADDRESS, 'PTR', ['-x'])).toEqual([`${SOURCE_NAME}.`]);
  });

  it('a failback preview plans the exact reversal of what the failover changed, from the zone as it is now', async () => {
    const { operationId } = await callerFor(f.h.t.operator.id).pair.failback.preview({ pairId, restoreFirst: false, reprotect: false });
    const op = await f.finished(operationId);
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    const changes = op.steps.filter((s) => s.kind === 'dns.apply').flatMap((s) => (s.params as { changes: { name: string; type: string; before: unknown; after: unknown }[] }).changes);
    expect(changes.find((c) => c.name === SOURCE_NAME && c.type === 'A')).toMatchObject({
      before: { records: [{ type: 'A', address: TARGET_ADDRESS }] },
      after: { ttl: 300, records: [{ type: 'A', address: SOURCE_ADDRESS }] },
    });
    // A preview changes nothing: the target still serves.
    expect(op.steps.every((s) => s.status === 'pending')).toBe(true);
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([TARGET_ADDRESS]);
    expect((await f.pair(pairId)).status).toBe('failed_over');
  });
});
