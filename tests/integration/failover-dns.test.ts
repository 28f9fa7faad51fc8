// DNS failover of a protected file pair against a real BIND 9, with real agents: the worker plans
// and runs the failover (TSIG-signed RFC 2136 updates by the target's agent); dig then answers the
// target's address for the source's name, through its CNAME chain, as the MX exchange and in the
// reverse zone. Failback returns the zone exactly as it was (full transfer compared). A wrong
// TSIG key fails the DNS step with a clear message, undoes what ran, and the zone is untouched.
// A DNS executor agent that is offline for a moment is waited for, not failed.
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { sealSecret } from '@tandem/security';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { waitFor } from './support/agents';
import { waitEqual } from './support/replication/agents';
import { finishedOperation, protectedPair, REVERSE_ZONE, SOURCE_IP, startOperation, TARGET_IP, ZONE, zoneDump, type FailoverSetup } from './support/failover';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let s: FailoverSetup;
let db: Db;
let worker: Worker | undefined;
let before: { zone: string[]; reverse: string[] };

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  // Enabling lowers the picked records' TTL (the zone's default is 300 s, the pair's 60 s).
  s = await protectedPair({ label: 'fo-dns', settings: (x) => ({ ...x, dns: { ...x.dns, lowerTtlOnEnable: true } }) }, async (h) => {
    worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
    await worker.waitUntilReady();
  });
  before = { zone: await zoneDump(s.bind, ZONE), reverse: await zoneDump(s.bind, REVERSE_ZONE) };
}, 150_000);

afterAll(async () => {
  await worker?.close();
  await s?.teardown();
  await db?.$disconnect();
});

const pairStatus = async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } })).status;

describe('DNS failover against BIND 9', () => {
  it('enabling lowered the TTL of the records that move (and only those) to the pair’s TTL', async () => {
    expect(before.zone).toContain(`fs1.${ZONE}. 60 IN A ${SOURCE_IP}`);
    expect(before.zone).toContain(`other.${ZONE}. 300 IN A 10.1.0.99`);
    expect(before.reverse).toContain(`5.0.1.10.in-addr.arpa. 60 IN PTR fs1.${ZONE}.`);
    expect(before.reverse).toContain(`99.0.1.10.in-addr.arpa. 300 IN PTR other.${ZONE}.`);
    const step = await ownerDb().operationStep.findFirstOrThrow({ where: { kind: 'dns.lower-ttl', operation: { pairId: s.pairId, kind: 'enable' } } });
    expect(step.status).toBe('succeeded');
    expect(JSON.stringify(step.output)).toContain('300 s → 60 s');
  });

  const wrongSecret = () => sealSecret(Buffer.alloc(32, 7).toString('base64'), `credential:${s.credentialId}:secret`);

  it('a wrong TSIG key refuses the failover while planning (reading the records): nothing runs, nothing changes', async () => {
    const good = await ownerDb().credential.findUniqueOrThrow({ where: { id: s.credentialId } });
    await ownerDb().credential.update({ where: { id: s.credentialId }, data: { secretEnc: wrongSecret() } });
    try {
      const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'immediate' }, prefix));
      expect(op.status).toBe('failed');
      expect(op.steps).toEqual([]);
      expect(op.error).toMatch(/TSIG|BADSIG|BADKEY|NOTAUTH|signature|key/i);
      expect(JSON.stringify(op)).not.toContain(s.bind.key.secret);
      expect(await pairStatus()).toBe('protected');
      expect(await zoneDump(s.bind, ZONE)).toEqual(before.zone);
    } finally {
      await ownerDb().credential.update({ where: { id: s.credentialId }, data: { secretEnc: good.secretEnc } });
    }
  }, 60_000);

  it('a key that goes wrong after planning fails the DNS step clearly, undoes what ran, and changes nothing in the zone', async () => {
    const good = await ownerDb().credential.findUniqueOrThrow({ where: { id: s.credentialId } });
    // The beforeFailover hook holds the run after planning until the test has replaced the key
    // (as if someone rotated it on the DNS server meanwhile).
    const gate = path.join(s.targetHooksDir, '..', `go-${Date.now()}`);
    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks: { beforeFailover: `#!/bin/sh\nwhile [ ! -f '${gate}' ]; do sleep 0.1; done\n` } } });
    try {
      const operationId = await startOperation(s, 'failover', { mode: 'immediate' }, prefix);
      await waitFor('hook running', async () => (await ownerDb().operationStep.findFirst({ where: { operationId, kind: 'hook.run', status: 'running' } })) !== null, 30_000);
      await ownerDb().credential.update({ where: { id: s.credentialId }, data: { secretEnc: wrongSecret() } });
      fs.writeFileSync(gate, '');
      const op = await finishedOperation(operationId);
      expect(op.status).toBe('failed');
      const dns = op.steps.find((x) => x.kind === 'dns.apply' && x.phase === 'run')!;
      expect(dns.status).toBe('failed');
      expect(dns.error).toMatch(/TSIG|BADSIG|BADKEY|NOTAUTH|signature|key/i);
      expect(op.error).toContain(dns.error);
      expect(JSON.stringify(op)).not.toContain(s.bind.key.secret);
      // What ran before the cut-over was undone: the target's data channel is open again.
      const undo = op.steps.filter((x) => x.phase === 'undo');
      expect(undo.map((x) => [x.kind, (x.params as { side?: string }).side ?? null])).toEqual(expect.arrayContaining([['replication.start', 'target']]));
      expect(undo.filter((x) => x.kind !== 'dns.apply').every((x) => x.status === 'succeeded')).toBe(true);
      expect(['protected', 'failover_pending']).toContain(await pairStatus());
      expect(await zoneDump(s.bind, ZONE)).toEqual(before.zone);
      expect(await zoneDump(s.bind, REVERSE_ZONE)).toEqual(before.reverse);
      expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([SOURCE_IP]);
    } finally {
      await ownerDb().credential.update({ where: { id: s.credentialId }, data: { secretEnc: good.secretEnc } });
      await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks: {} } });
    }
    // Replication runs again after the undo: a new file reaches the target.
    fs.writeFileSync(path.join(s.share, 'after-undo.txt'), 'replicated again');
    expect(await waitEqual(s.share, path.join(s.targetRoot, s.share), 30_000)).toEqual([]);
  }, 120_000);

  it('fails over: dig answers the target for the name, through the CNAME chain, as MX exchange and in the PTR zone', async () => {
    const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'graceful' }, prefix));
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    expect(op.steps.every((x) => x.status === 'succeeded' || x.status === 'skipped')).toBe(true);
    expect(op.steps.map((x) => x.kind)).toEqual(expect.arrayContaining(['replication.drain', 'dns.apply', 'pair.set-state']));
    // Graceful with a live source: nothing was lost.
    expect(op.outcome).toMatchObject({ lagAtCutoverSeconds: 0 });
    expect(await pairStatus()).toBe('failed_over');

    expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([TARGET_IP]);
    // www → files → fs1 → the target's address.
    expect(await s.bind.dig(`www.${ZONE}`, 'A', ['+recurse'])).toEqual([`files.${ZONE}.`, `fs1.${ZONE}.`, TARGET_IP]);
    const [mx] = await s.bind.dig(ZONE, 'MX');
    expect(mx).toBe(`10 fs1.${ZONE}.`);
    expect(await s.bind.dig(mx!.split(' ')[1]!, 'A')).toEqual([TARGET_IP]);
    expect(await s.bind.dig('6.0.1.10.in-addr.arpa', 'PTR')).toEqual([`fs1.${ZONE}.`]);
    expect(await s.bind.dig('5.0.1.10.in-addr.arpa', 'PTR')).toEqual([]);
    // Records nobody picked are untouched.
    expect(await s.bind.dig(`other.${ZONE}`, 'A')).toEqual(['10.1.0.99']);
    expect(await s.bind.dig('99.0.1.10.in-addr.arpa', 'PTR')).toEqual([`other.${ZONE}.`]);
    // The step output names what changed, never the key.
    const dns = op.steps.find((x) => x.kind === 'dns.apply')!;
    expect(JSON.stringify(dns.output)).toContain('changed');
    expect(JSON.stringify(op.steps)).not.toContain(s.bind.key.secret);
  }, 120_000);

  it('fails back: the zone is exactly what it was before the failover (nothing extra, nothing lost), even with the DNS executor briefly offline', async () => {
    // The beforeFailback hook (on the source) holds the run while the test stops the target's
    // agent, which sends the DNS updates: the DNS step waits for it to come back instead of failing.
    const gate = path.join(s.targetHooksDir, '..', `back-${Date.now()}`);
    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks: { beforeFailback: `#!/bin/sh\nwhile [ ! -f '${gate}' ]; do sleep 0.1; done\n` } } });
    const operationId = await startOperation(s, 'failback', { restoreFirst: false, reprotect: false }, prefix);
    await waitFor('hook running', async () => (await ownerDb().operationStep.findFirst({ where: { operationId, kind: 'hook.run', status: 'running' } })) !== null, 30_000);
    await s.target.handle.stop();
    await waitFor('target agent offline', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: s.targetAgentId } })).status === 'offline', 15_000);
    fs.writeFileSync(gate, '');
    await waitFor('DNS step waiting', async () => (await ownerDb().operationStep.findFirst({ where: { operationId, kind: 'dns.apply', status: 'running' } })) !== null, 30_000);
    s.h.run(s.target.dir);
    const op = await finishedOperation(operationId);
    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks: {} } });
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    // The same command was sent once the agent was back: no new attempt.
    expect(op.steps.find((x) => x.kind === 'dns.apply')!.attempts).toBe(0);
    expect(await zoneDump(s.bind, ZONE)).toEqual(before.zone);
    expect(await zoneDump(s.bind, REVERSE_ZONE)).toEqual(before.reverse);
    expect(await s.bind.dig(`www.${ZONE}`, 'A')).toEqual([`files.${ZONE}.`, `fs1.${ZONE}.`, SOURCE_IP]);
    expect(await pairStatus()).toBe('unprotected');
  }, 120_000);
});
