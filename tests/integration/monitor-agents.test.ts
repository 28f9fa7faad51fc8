// The failure monitor end to end, with real processes: one gateway, two bundled tandem-agent
// processes (the pair's source and target servers), commands through Redis (AgentBus) as the
// worker sends them. The source answers signed UDP probes on a port of its own; the target probes
// it through a UDP relay this test controls (cut / restore), and its reports land in PostgreSQL
// (PairMonitor). Also: a wrong key gets no valid answers, kill -9 of the source is noticed, both
// agents resume their monitors after a restart, the source agent cannot report for the pair, and
// replication.check-set looks at real directories.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import type { MonitorAddressState } from '@tandem/protocol';
import { tempDir, waitFor } from './support/agents';
import { dropOnLoopback } from './support/firewall';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';

/**
 * A UDP relay on 127.0.0.1 in front of one upstream port: forwards both ways (one upstream socket
 * per client, so answers find their way back); `cut()` drops everything, `restore()` resumes.
 */
class UdpRelay {
  private readonly front = dgram.createSocket('udp4');
  private readonly backs = new Map<string, dgram.Socket>();
  private dropping = false;
  port = 0;

  constructor(private readonly upstreamPort: number) {}

  async start(): Promise<this> {
    this.front.on('message', (msg, client) => {
      if (this.dropping) return;
      const id = `${client.address}:${client.port}`;
      let back = this.backs.get(id);
      if (!back) {
        back = dgram.createSocket('udp4');
        back.on('message', (answer) => {
          if (!this.dropping) this.front.send(answer, client.port, client.address);
        });
        this.backs.set(id, back);
      }
      back.send(msg, this.upstreamPort, '127.0.0.1');
    });
    await new Promise<void>((resolve) => this.front.bind(0, '127.0.0.1', resolve));
    this.port = this.front.address().port;
    return this;
  }

  cut() {
    this.dropping = true;
  }

  restore() {
    this.dropping = false;
  }

  async stop() {
    for (const s of [this.front, ...this.backs.values()]) await new Promise<void>((r) => s.close(() => r()));
  }
}

const h = new ReplicationHarness('monitor');
let source: Enrolled;
let target: Enrolled;
let pairId: string;
const key = randomBytes(32).toString('base64');
let relay: UdpRelay;

beforeAll(async () => {
  await h.setup();
  const p = await h.twoAgentPair();
  source = p.source;
  target = p.target;
  pairId = p.pair.id;
  // Monitoring on, as enabling protection leaves it: the gateway ignores reports of unmonitored pairs.
  await ownerDb().protectionPair.update({ where: { id: pairId }, data: { monitoringStatus: 'watching' } });
}, 120_000);
afterAll(async () => {
  await relay?.stop();
  await h.teardown();
});

const dump = () => `--- source agent ---\n${source.handle.output().slice(-4000)}\n--- target agent ---\n${target.handle.output().slice(-4000)}`;
const monitorRow = () => ownerDb().pairMonitor.findUnique({ where: { pairId } });
const status = (a: Enrolled) => h.bus.send(a.agentId, 'monitor.status', { pairId });
const evidence = (row: { targetEvidence: unknown } | null) => (row?.targetEvidence ?? []) as MonitorAddressState[];

/** Waits until the stored target view is `state`, reported after `since` (control-plane time). */
function stored(state: 'ok' | 'lost', since: Date, extra: (row: NonNullable<Awaited<ReturnType<typeof monitorRow>>>) => boolean = () => true) {
  return waitFor(
    `PairMonitor ${state} after ${since.toISOString()}`,
    async () => {
      const row = await monitorRow();
      return row && row.targetState === state && row.targetReportAt && row.targetReportAt > since && extra(row) ? row : null;
    },
    20_000,
  );
}

/** How many of the agent's frames the gateway has refused as not its pair's (the agent logs each). */
const refusals = (a: Enrolled) => a.handle.output().split('not_your_pair').length - 1;

/**
 * A clock made of monitor reports instead of time: a monitor on `a` for a pair that does not
 * exist, so the gateway refuses (and the agent logs) its report about once a second. After
 * `more(n)`, the gateway has handled n more report rounds from that agent: any other monitor still
 * running there would have had its reports handled in the same rounds.
 */
async function reportWitness(a: Enrolled) {
  const witness = crypto.randomUUID();
  await h.bus.send(a.agentId, 'monitor.start', { ...targetArgs(9), pairId: witness, addresses: ['127.0.0.3'], intervalMs: 200, missed: 1 });
  return {
    more: async (n: number) => {
      const before = refusals(a);
      await waitFor(`${n} more refused reports from the witness monitor`, () => refusals(a) >= before + n, 20_000);
    },
    stop: () => h.bus.send(a.agentId, 'monitor.stop', { pairId: witness }),
  };
}

function targetArgs(port: number, k = key) {
  return {
    pairId,
    role: 'target' as const,
    key: k,
    port,
    addresses: ['127.0.0.1'],
    intervalMs: 300,
    missed: 3,
    trigger: 'all' as const,
  };
}

describe('failure monitor between two real agents', () => {
  it('reports ok, lost on a cut, ok on restore, lost for a wrong key and for a killed source; resumes after restarts', { timeout: 180_000 }, async () => {
    try {
      // The source answers on a port of its own choosing.
      const started = await h.bus.send(source.agentId, 'monitor.start', { pairId, role: 'source', key, port: 0 });
      expect(started.started).toBe(true);
      const sourcePort = started.port!;
      expect(sourcePort).toBeGreaterThan(0);
      expect(await status(source)).toMatchObject({ running: true, role: 'source', port: sourcePort, state: null });
      // Persisted for resume, readable by the agent only (the arguments hold the key).
      for (const a of [source]) {
        const file = path.join(a.dir, 'monitor', `${pairId}.json`);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      }

      relay = await new UdpRelay(sourcePort).start();
      let t0 = new Date();
      expect(await h.bus.send(target.agentId, 'monitor.start', targetArgs(relay.port))).toEqual({ started: true, port: null });
      const ok1 = await stored('ok', t0, (r) => evidence(r)[0]?.lastOkAt !== null);
      expect(ok1).toMatchObject({ targetLostSince: null, organizationId: h.t.org.id, customerId: h.t.customerX.id });
      expect(evidence(ok1)).toHaveLength(1);
      expect(evidence(ok1)[0]).toMatchObject({ address: '127.0.0.1', reachable: true, missed: 0 });
      expect(typeof evidence(ok1)[0]!.lastOkAt).toBe('number');
      expect(await status(target)).toMatchObject({ running: true, role: 'target', state: 'ok', addresses: [{ address: '127.0.0.1', reachable: true }] });
      // Reports keep coming while nothing changes (the control plane stops believing old ones).
      const reportAt = ok1.targetReportAt!;
      await stored('ok', reportAt);
      // The same arguments again change nothing.
      expect(await h.bus.send(target.agentId, 'monitor.start', targetArgs(relay.port))).toEqual({ started: true, port: null });

      // Cut the link: lost, with when and why.
      t0 = new Date();
      relay.cut();
      const lost1 = await stored('lost', t0);
      expect(lost1.targetLostSince).toBeInstanceOf(Date);
      expect(lost1.targetLostSince!.getTime()).toBeGreaterThanOrEqual(t0.getTime() - 1000);
      const [e1] = evidence(lost1);
      expect(e1).toMatchObject({ address: '127.0.0.1', reachable: false });
      expect(e1!.missed).toBeGreaterThanOrEqual(3);
      expect(e1!.lastOkAt).toBeLessThanOrEqual(Date.now());
      expect(await status(target)).toMatchObject({ state: 'lost', addresses: [{ reachable: false }] });

      // Restore: ok again.
      t0 = new Date();
      relay.restore();
      const ok2 = await stored('ok', t0);
      expect(ok2.targetLostSince).toBeNull();
      expect(evidence(ok2)[0]).toMatchObject({ reachable: true, missed: 0 });

      // A prober with the wrong key gets no valid answers (monitor.start replaces the monitor).
      t0 = new Date();
      expect(await h.bus.send(target.agentId, 'monitor.start', targetArgs(relay.port, randomBytes(32).toString('base64')))).toEqual({ started: true, port: null });
      const lostKey = await stored('lost', t0);
      expect(evidence(lostKey)[0]).toMatchObject({ reachable: false, lastOkAt: null });
      await waitFor('the source logging refused probes', () => source.handle.output().includes('monitor: ignored bad datagrams'));
      t0 = new Date();
      await h.bus.send(target.agentId, 'monitor.start', targetArgs(relay.port));
      await stored('ok', t0, (r) => evidence(r)[0]?.lastOkAt !== null);

      // kill -9 the source agent: its answers stop, the target says lost.
      t0 = new Date();
      await source.handle.stop('SIGKILL');
      const lost2 = await stored('lost', t0);
      expect(evidence(lost2)[0]).toMatchObject({ reachable: false });

      // Restarted, the source resumes answering on the same port by itself.
      t0 = new Date();
      source.handle = h.run(source.dir);
      await h.online(source.agentId);
      await stored('ok', t0);
      expect(source.handle.output()).toContain('monitor resumed');
      expect(await status(source)).toMatchObject({ running: true, role: 'source', port: sourcePort });

      // kill -9 the target agent: restarted, it resumes probing and reporting.
      await target.handle.stop('SIGKILL');
      t0 = new Date();
      target.handle = h.run(target.dir);
      await h.online(target.agentId);
      await stored('ok', t0, (r) => (evidence(r)[0]?.lastOkAt ?? 0) > t0.getTime() - 5000);
      expect(target.handle.output()).toContain('monitor resumed');

      // The key never reaches a log.
      expect(source.handle.output() + target.handle.output()).not.toContain(key);

      // Stop both: forgotten, not running, the files are gone; a second stop says so.
      expect(await h.bus.send(source.agentId, 'monitor.stop', { pairId })).toEqual({ stopped: true });
      expect(await h.bus.send(target.agentId, 'monitor.stop', { pairId })).toEqual({ stopped: true });
      expect(await h.bus.send(target.agentId, 'monitor.stop', { pairId })).toEqual({ stopped: false });
      expect(await status(source)).toMatchObject({ running: false, role: null, port: null });
      expect(await status(target)).toMatchObject({ running: false, state: null, addresses: [] });
      for (const a of [source, target]) expect(fs.existsSync(path.join(a.dir, 'monitor', `${pairId}.json`))).toBe(false);
      // Reports stop: nothing is stored while the gateway handles further rounds of the agent's reports.
      const witness = await reportWitness(target);
      try {
        await witness.more(1);
        const last = (await monitorRow())!.targetReportAt!;
        await witness.more(3);
        expect((await monitorRow())!.targetReportAt).toEqual(last);
      } finally {
        await witness.stop();
      }
    } catch (err) {
      console.log(dump());
      throw err;
    }
  });

  it('refuses a report from the pair’s SOURCE agent and writes nothing', { timeout: 60_000 }, async () => {
    // Only the source's reports may reach the row while this runs: the target's monitor is off
    // (it is, unless the test before failed half-way).
    await h.bus.send(target.agentId, 'monitor.stop', { pairId });
    const before = await monitorRow();
    // The source agent runs a target-role monitor for the pair: its reports are not its to make.
    const marker = '127.0.0.2';
    await h.bus.send(source.agentId, 'monitor.start', { ...targetArgs(9), addresses: [marker], intervalMs: 200, missed: 1 });
    try {
      const refusedBefore = refusals(source);
      await waitFor('the gateway refusing several of the source agent’s reports', () => refusals(source) >= refusedBefore + 3, 15_000);
      const after = await monitorRow();
      expect(after).toEqual(before);
      expect(JSON.stringify(after?.targetEvidence ?? null)).not.toContain(marker);
    } finally {
      await h.bus.send(source.agentId, 'monitor.stop', { pairId });
    }
  });

  it('method icmp: the system ping says ok for loopback, lost for an address whose pings are dropped', { timeout: 60_000 }, async () => {
    // Pairs of their own (no ProtectionPair: the gateway refuses their reports; status tells).
    const reachable = crypto.randomUUID();
    const unreachable = crypto.randomUUID();
    const icmp = { role: 'target' as const, key, method: 'icmp' as const, port: 1, intervalMs: 300, missed: 2 };
    await h.bus.send(target.agentId, 'monitor.start', { ...icmp, pairId: reachable, addresses: ['127.0.0.1'] });
    // A loopback address whose echo requests the kernel drops: nobody answers, nothing leaves the machine.
    const silent = dropOnLoopback('icmp', ['ip daddr 127.0.0.77 icmp type echo-request drop']);
    await h.bus.send(target.agentId, 'monitor.start', { ...icmp, pairId: unreachable, addresses: ['127.0.0.77'] });
    try {
      const icmpStatus = (id: string) => h.bus.send(target.agentId, 'monitor.status', { pairId: id });
      const up = await waitFor('ping answered', async () => {
        const s = await icmpStatus(reachable);
        return s.addresses[0]?.lastOkAt ? s : null;
      });
      expect(up).toMatchObject({ state: 'ok', addresses: [{ address: '127.0.0.1', reachable: true }] });
      const down = await waitFor('ping unanswered', async () => {
        const s = await icmpStatus(unreachable);
        return s.state === 'lost' ? s : null;
      });
      expect(down.addresses[0]).toMatchObject({ address: '127.0.0.77', reachable: false, lastOkAt: null });
      // Option-like addresses never reach ping.
      await expect(h.bus.send(target.agentId, 'monitor.start', { ...icmp, pairId: crypto.randomUUID(), addresses: ['-f'] })).rejects.toThrow(/not an address/);
    } finally {
      for (const id of [reachable, unreachable]) await h.bus.send(target.agentId, 'monitor.stop', { pairId: id });
      silent.restore();
    }
  });

  it('replication.check-set reports each root: a directory, a missing path, a file', async () => {
    const dir = tempDir('check-set');
    h.cleanup.push(dir);
    const existing = path.join(dir, 'share');
    const missing = path.join(dir, 'nope', 'deeper');
    const file = path.join(dir, 'plain.txt');
    fs.mkdirSync(existing);
    fs.writeFileSync(file, 'x');
    const r = await h.bus.send(source.agentId, 'replication.check-set', { source: { roots: [existing, missing, file] } });
    expect(r).toEqual({
      roots: [
        { root: existing, exists: true, directory: true, error: null },
        { root: missing, exists: false, directory: false, error: null },
        { root: file, exists: true, directory: false, error: null },
      ],
    });
    // A path below a file is missing too, not an error.
    const r2 = await h.bus.send(source.agentId, 'replication.check-set', { source: { roots: [path.join(file, 'inside')] } });
    expect(r2.roots[0]).toMatchObject({ exists: false, directory: false, error: null });
  });
});
