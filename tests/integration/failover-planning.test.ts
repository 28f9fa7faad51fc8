// The planning phase of a failover, with real agents, a real gateway and a real BIND 9: a dry run
// (pair.failover.preview) stores the runbook and its diff, with before → after taken from what
// BIND answers now, and changes nothing (BIND, the pair). Planning again re-reads the answers. A
// run refused while planning (the target's agent went away after the request, the DNS key is
// wrong) fails with the reason before any step exists, and the pair stays as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { enqueueOperation } from '@tandem/jobs';
import { sealSecret } from '@tandem/security';
import { callerFor } from './helpers';
import { waitFor } from './support/agents';
import { FailoverPair, REVERSE_ZONE, SOURCE_ADDRESS, SOURCE_NAME, TARGET_ADDRESS, ZONE } from './support/failover-pair';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const f = new FailoverPair('plan');
let pairId: string;

beforeAll(async () => {
  await f.setup();
  pairId = await f.createPair(f.settings(), 'protected');
}, 180_000);

afterAll(async () => {
  await f.teardown();
});

interface StoredChange {
  zone: string;
  name: string;
  type: string;
  before: { ttl: number; records: unknown[] };
  after: { ttl: number; records: unknown[] };
}

async function preview() {
  const { operationId } = await callerFor(f.h.t.operator.id).pair.failover.preview({ pairId, mode: 'immediate' });
  return f.finished(operationId);
}

const dnsChangesOf = (steps: { kind: string; params: unknown }[]) => steps.filter((s) => s.kind === 'dns.apply').flatMap((s) => (s.params as { changes: StoredChange[] }).changes);

describe('planning a failover', () => {
  it('a dry run stores the plan and its diff from the DNS server’s current answers, and changes nothing', async () => {
    const op = await preview();
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    expect(op.dryRun).toBe(true);
    // The plan is stored, nothing of it ran.
    expect(op.steps.length).toBeGreaterThan(2);
    expect(op.steps.every((s) => s.status === 'pending' && s.phase === 'run' && s.startedAt === null)).toBe(true);
    expect(op.pointOfNoReturn).not.toBeNull();

    const changes = dnsChangesOf(op.steps);
    expect(changes).toContainEqual({
      zone: ZONE,
      name: SOURCE_NAME,
      type: 'A',
      before: { ttl: 300, records: [{ type: 'A', address: SOURCE_ADDRESS }] },
      after: { ttl: 60, records: [{ type: 'A', address: TARGET_ADDRESS }] },
    });
    // The reverse name of the source address moves to the target address's reverse name.
    expect(changes).toContainEqual({ zone: REVERSE_ZONE, name: `10.${REVERSE_ZONE}`, type: 'PTR', before: { ttl: 300, records: [{ type: 'PTR', target: SOURCE_NAME }] }, after: { ttl: 60, records: [] } });
    const created = changes.find((c) => c.name === `20.${REVERSE_ZONE}` && c.type === 'PTR');
    expect(created).toMatchObject({ zone: REVERSE_ZONE, before: { records: [] }, after: { ttl: 60, records: [{ type: 'PTR', target: SOURCE_NAME }] } });

    // The diff the portal shows says the same, in order, with the point of no return marked.
    const diff = op.changes as { kind: string; before: string | null; after: string | null; pastPointOfNoReturn: boolean }[];
    const dnsItems = diff.filter((c) => c.kind === 'dns');
    expect(dnsItems.some((c) => c.before?.includes(SOURCE_ADDRESS) && c.after?.includes(TARGET_ADDRESS))).toBe(true);
    expect(diff.some((c) => c.pastPointOfNoReturn)).toBe(true);

    // Nothing changed: BIND answers as before, the pair is still protected.
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([SOURCE_ADDRESS]);
    expect(await f.bind.dig(SOURCE_ADDRESS, 'PTR', ['-x'])).toEqual([`${SOURCE_NAME}.`]);
    expect(await f.bind.dig(TARGET_ADDRESS, 'PTR', ['-x'])).toEqual([]);
    expect((await f.pair(pairId)).status).toBe('protected');
  });

  it('planning again re-reads the answers: a record changed meanwhile shows as it is now', async () => {
    await f.nsupdate([`update delete ${SOURCE_NAME} A`, `update add ${SOURCE_NAME} 120 A ${SOURCE_ADDRESS}`, `update add ${SOURCE_NAME} 120 A 192.0.2.11`]);
    const op = await preview();
    expect(op.status).toBe('succeeded');
    const a = dnsChangesOf(op.steps).find((c) => c.name === SOURCE_NAME && c.type === 'A')!;
    expect(a.before.ttl).toBe(120);
    expect(a.before.records).toEqual(expect.arrayContaining([{ type: 'A', address: SOURCE_ADDRESS }, { type: 'A', address: '192.0.2.11' }]));
    // Only the mapped address moves; the other record stays.
    expect(a.after.records).toEqual(expect.arrayContaining([{ type: 'A', address: TARGET_ADDRESS }, { type: 'A', address: '192.0.2.11' }]));
    expect(a.after.records).toHaveLength(2);
    expect((await f.bind.dig(SOURCE_NAME, 'A')).sort()).toEqual([SOURCE_ADDRESS, '192.0.2.11']);
    await f.nsupdate([`update delete ${SOURCE_NAME} A`, `update add ${SOURCE_NAME} 300 A ${SOURCE_ADDRESS}`]);
  });

  it('a wrong DNS key refuses the plan with a clear message; nothing is planned or changed', async () => {
    const wrongId = crypto.randomUUID();
    await ownerDb().credential.create({
      data: {
        id: wrongId,
        organizationId: f.h.t.org.id,
        customerId: f.h.t.customerX.id,
        kind: 'dns_tsig',
        name: `plan wrong key ${wrongId.slice(0, 6)}`,
        secretEnc: sealSecret(Buffer.from('not the right secret at all').toString('base64'), `credential:${wrongId}:secret`),
        publicInfo: { keyName: f.bind.key.name, algorithm: 'hmac-sha256' },
      },
    });
    const settings = f.settings();
    const other = await f.createPair({ ...settings, dns: { ...settings.dns, credentialId: wrongId } }, 'protected');
    const { operationId } = await callerFor(f.h.t.operator.id).pair.failover.preview({ pairId: other, mode: 'immediate' });
    const op = await f.finished(operationId);
    expect(op.status).toBe('failed');
    expect(op.error).toMatch(/DNS/);
    expect(op.error).not.toContain(f.bind.key.secret);
    expect(op.steps).toEqual([]);
    expect((await f.pair(other)).status).toBe('protected');
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([SOURCE_ADDRESS]);
  });

  it('a run whose target agent went away after the request is refused while planning; the pair is unchanged', async () => {
    await f.target.handle.stop();
    await waitFor('target agent offline', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: f.target.agentId } })).status === 'offline');
    // As if the request had passed its checks just before the agent left (the web refuses it now).
    const op = await ownerDb().operation.create({
      data: { organizationId: f.h.t.org.id, customerId: f.h.t.customerX.id, pairId, kind: 'failover', dryRun: false, options: { mode: 'immediate' } },
    });
    await enqueueOperation(f.operations, { operationId: op.id, organizationId: op.organizationId, customerId: op.customerId });
    const done = await f.finished(op.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/not online/);
    expect(done.steps).toEqual([]);
    const pair = await f.pair(pairId);
    expect(pair.status).toBe('protected');
    const events = await ownerDb().pairEvent.findMany({ where: { pairId, severity: 'error' } });
    expect(events.map((e) => e.message).join('\n')).toMatch(/refused before it started/);
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([SOURCE_ADDRESS]);
  });
});
