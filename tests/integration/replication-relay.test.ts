// File replication through the gateway's relay, for agents that cannot reach each other: a real
// gateway, two real enrolled agents and the worker's operation runner. The pair is created and
// enabled through the same API the portal uses, with route "relay"; the data port between the
// agents is dropped by nftables (and the target does not listen on it anyway). The tree must
// arrive identical, continuous changes too, through a gateway restart and the relay's idle
// time-out. Around the real pair, raw relay sockets check the gateway's side: strangers, other
// tenants and malformed hellos are refused with a clear close code and reason while the gateway
// keeps serving; two sockets are joined byte for byte; the limits (one waiting socket per side,
// waits, idleness, sockets per pair) hold; a disabled or direct pair gets no relay.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { createWebSocketStream } from 'ws';
import { createPrismaClient, type Db } from '@tandem/db';
import { createTenant, ownerDb } from '@tandem/db/testing';
import type { PairSettings } from '@tandem/engine';
import { actionResults, RELAY_PATH, relayCloseCodes } from '@tandem/protocol';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor } from './helpers';
import { agentCredential, freePort, startGateway, tempDir, waitFor, type GatewayHandle } from './support/agents';
import { dropOnLoopback, type Cut } from './support/firewall';
import { validPairSettings } from './support/pair-settings';
import { sleep } from './support/replication/continuous';
import { ReplicationHarness, waitEqual, writeFiles, type Enrolled } from './support/replication/agents';
import { recordPassingValidation } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;
// Short relay limits for this gateway (production: 120 s wait, 15 min idle, 64 sockets per pair).
process.env.RELAY_WAIT_MS = '3000';
process.env.RELAY_IDLE_MS = '6000';
process.env.RELAY_MAX_PER_PAIR = '16';

const h = new ReplicationHarness('relay');
const connection = redisConnection(process.env.REDIS_URL!);
let db: Db;
let workers: Worker[] = [];
let source: Enrolled;
let target: Enrolled;
let src: string;
let src2: string;
let targetRoot: string;
let dst: string;
let dst2: string;
let pairId: string;
let dataPort: number;
let cut: Cut | undefined;
/** Every gateway this file started (the first one is the harness's). */
const gateways: GatewayHandle[] = [];

const gw = () => gateways.at(-1)!;
const credentialOf = (a: Enrolled) =>
  (JSON.parse(fs.readFileSync(path.join(a.dir, 'agent.json'), 'utf8')) as { credential: string }).credential;
const pair = () => ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
const health = async () =>
  (await (await fetch(`${gw().url}/health`)).json()) as {
    ok: boolean;
    relay: { waiting: number; active: number; joined: number; bytesRelayed: number; refused: number };
  };
const dump = () =>
  `--- gateway ---\n${gw().output().slice(-6000)}\n--- source agent ---\n${source.handle.output().slice(-4000)}\n--- target agent ---\n${target.handle.output().slice(-4000)}`;

interface RawOutcome {
  code: number;
  reason: string;
  notices: string[];
  received: Buffer;
}

/**
 * A relay socket driven by hand. `hello` is sent as is when it is a string or Buffer (Buffer: as
 * a binary frame), as JSON otherwise; undefined sends nothing.
 */
function rawRelay(credential: string | null, hello: unknown) {
  const ws = new WebSocket(
    `ws://127.0.0.1:${gw().port}${RELAY_PATH}`,
    credential ? { headers: { authorization: `Bearer ${credential}` } } : {},
  );
  const notices: string[] = [];
  const chunks: Buffer[] = [];
  const noticeWaiters: { type: string; resolve: () => void }[] = [];
  ws.on('open', () => {
    if (hello === undefined) return;
    if (Buffer.isBuffer(hello)) ws.send(hello, { binary: true });
    else ws.send(typeof hello === 'string' ? hello : JSON.stringify(hello));
  });
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return void chunks.push(data);
    const type = (JSON.parse(data.toString()) as { type: string }).type;
    notices.push(type);
    for (const w of noticeWaiters.filter((x) => x.type === type)) w.resolve();
  });
  ws.on('error', () => undefined);
  const closed = new Promise<RawOutcome>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), notices, received: Buffer.concat(chunks) })),
  );
  return {
    ws,
    closed,
    received: () => Buffer.concat(chunks),
    notice: (type: string, ms = 10_000) =>
      Promise.race([
        notices.includes(type) ? Promise.resolve() : new Promise<void>((resolve) => noticeWaiters.push({ type, resolve })),
        closed.then((c) => Promise.reject(new Error(`closed before ${type}: ${c.code} ${c.reason}`))),
        sleep(ms).then(() => Promise.reject(new Error(`no ${type} within ${ms} ms`))),
      ]),
  };
}

const hello = (over: Record<string, unknown> = {}) => ({
  type: 'relay.hello',
  version: 1,
  pairId,
  role: 'source',
  stream: 'ffffffffffff',
  ...over,
});

beforeAll(async () => {
  await h.setup();
  gateways.push(h.gw);
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  workers = [startOperationsWorker(connection, db, h.bus, { prefix })];
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  const data = tempDir('relay-data');
  h.cleanup.push(data);
  src = path.join(data, 'source', 'share');
  targetRoot = path.join(data, 'replica');
  dst = path.join(targetRoot, src);
  fs.mkdirSync(src, { recursive: true });
  fs.mkdirSync(targetRoot, { recursive: true });
  writeFiles(src, 'initial', 40);
  fs.writeFileSync(path.join(src, 'big.bin'), randomBytes(3 * 1024 * 1024)); // frames larger than one relay message
  fs.mkdirSync(path.join(src, 'empty dir'));
  // A second root: its own channel identity, so its own relay stream.
  src2 = path.join(data, 'source', 'second');
  dst2 = path.join(targetRoot, src2);
  writeFiles(src2, 'two', 10);

  source = await h.enrolAndRun('source');
  target = await h.enrolAndRun('target');
  await h.online(source.agentId);
  await h.online(target.agentId);

  // The agents cannot reach each other: the pair's data port is dropped on loopback.
  dataPort = await freePort();
  cut = dropOnLoopback('relay', [`tcp dport ${dataPort} drop`]);
}, 120_000);

afterAll(async () => {
  cut?.restore();
  await Promise.all(workers.map((w) => w.close()));
  await h.teardown();
  await db?.$disconnect();
});

function relaySettings(): PairSettings {
  const v = validPairSettings();
  return {
    ...v,
    name: 'Relayed share',
    application: 'generic_service',
    replicationSet: { roots: [src, src2], rules: [] },
    failover: { ...v.failover, enabled: false, services: [], monitor: { ...v.failover.monitor, addresses: ['127.0.0.1'] } },
    connection: { ...v.connection, route: '127.0.0.1', port: dataPort, routeMode: 'relay', targetRoot, inPlaceFromMiB: 16 },
  };
}

describe('replication through the gateway relay', () => {
  it(
    'enables a relay pair through the API; it mirrors and replicates continuously with the data port blocked',
    { timeout: 150_000 },
    async () => {
      const caller = callerFor(h.t.operator.id);
      pairId = (
        await caller.pair.create({
          customerId: h.t.customerX.id,
          sourceServerId: source.serverId,
          targetServerId: target.serverId,
          settings: relaySettings(),
        })
      ).id;
      expect((await caller.pair.settings({ pairId })).settings!.connection.routeMode).toBe('relay');
      // Validation is not this test's subject: a passing run lets the enable gate through.
      await recordPassingValidation(pairId);
      const { operationId } = await caller.pair.enable({ pairId, monitoring: false });
      const op = await waitFor(
        'enable operation finished',
        async () => {
          const o = await ownerDb().operation.findUniqueOrThrow({
            where: { id: operationId },
            include: { steps: { orderBy: { position: 'asc' } } },
          });
          return o.status === 'succeeded' || o.status === 'failed' ? o : null;
        },
        60_000,
      );
      expect(op.error, dump()).toBeNull();
      expect(op.steps.map((s) => [s.kind, s.status])).toEqual([
        ['agents.check', 'succeeded'],
        ['replication.check-set', 'succeeded'],
        ['replication.start', 'succeeded'],
        ['replication.start', 'succeeded'],
        ['pair.set-state', 'succeeded'],
      ]);
      expect(op.steps[2]!.description).toMatch(/through the gateway relay/);
      // The pair's other choices reach both agents' start arguments (persisted for resume).
      for (const a of [source, target]) {
        const args = JSON.parse(fs.readFileSync(path.join(a.dir, 'replication', pairId, 'pair.json'), 'utf8')) as { inPlaceMinBytes?: number };
        expect(args.inPlaceMinBytes).toBe(16 * 1024 * 1024);
      }

      try {
        await waitFor('pair protected', async () => (await pair()).status === 'protected', 60_000);
        expect(await waitEqual(src, dst, 30_000)).toEqual([]);
        expect(await waitEqual(src2, dst2, 30_000)).toEqual([]);

        // Nothing listens on the target: the bytes went through the gateway.
        const status = actionResults['replication.status'].parse(
          await h.bus.send(target.agentId, 'replication.status', { pairId }),
        );
        expect(status).toMatchObject({ running: true, role: 'target', state: 'listening', port: null });
        const stats = await health();
        expect(stats.relay.bytesRelayed).toBeGreaterThan(3 * 1024 * 1024);
        expect(stats.relay.joined).toBeGreaterThanOrEqual(4); // per root: the mirror's channel, then the continuous one
        expect(gw().output()).toMatch(/relay joined.*"pairId":"[^"]*"/);

        // Continuous replication: new files, an edit, a deletion.
        writeFiles(src, 'later', 12);
        fs.appendFileSync(path.join(src, 'initial', 'file 1.txt'), 'appended through the relay\n');
        fs.rmSync(path.join(src, 'initial', 'file 2.txt'));
        fs.writeFileSync(path.join(src2, 'two', 'new in the second root.txt'), 'second stream');
        expect(await waitEqual(src, dst, 30_000)).toEqual([]);
        expect(await waitEqual(src2, dst2, 30_000)).toEqual([]);
        const source1 = actionResults['replication.status'].parse(
          await h.bus.send(source.agentId, 'replication.status', { pairId }),
        );
        expect(source1).toMatchObject({ running: true, role: 'source', state: 'continuous', connected: true });

        // Verify opens a second channel per root beside the running sessions: through the relay too.
        const verified = actionResults['replication.verify'].parse(
          await h.bus.send(source.agentId, 'replication.verify', { pairId }, { timeoutMs: 60_000 }),
        );
        expect(verified.differing).toEqual([]);
        expect(verified.checkedFiles).toBeGreaterThan(50);
      } catch (err) {
        console.log(dump());
        throw err;
      }
    },
  );

  it('survives the relay dropping: a gateway restart and the idle time-out', { timeout: 120_000 }, async () => {
    try {
      // Idle longer than RELAY_IDLE_MS: the gateway closes the quiet relay, the source reconnects.
      const idleBefore = (
        gw()
          .output()
          .match(/relay idle/g) ?? []
      ).length;
      await waitFor('the gateway to close the idle relay', () => (gw().output().match(/relay idle/g) ?? []).length > idleBefore, 30_000);
      fs.writeFileSync(path.join(src, 'after idle.txt'), 'still arrives');
      expect(await waitEqual(src, dst, 30_000)).toEqual([]);

      // The gateway goes away while files change, and comes back on the same port.
      const port = gw().port;
      fs.writeFileSync(path.join(src, 'before restart.txt'), 'one');
      const reconnects = () => (source.handle.output().match(/reconnecting/g) ?? []).length;
      const reconnectsBefore = reconnects();
      await gw().stop();
      writeFiles(src, 'while the gateway was down', 9);
      fs.rmSync(path.join(src, 'initial', 'file 4.txt'));
      fs.appendFileSync(path.join(src2, 'two', 'file 1.txt'), 'changed while the gateway was down\n');
      // The gateway comes back only once the source agent has noticed it was gone.
      await waitFor('the source agent to notice the gateway is gone', () => reconnects() > reconnectsBefore, 30_000);
      const next = await startGateway({ port });
      h.running.push(next);
      gateways.push(next);
      expect(await waitEqual(src, dst, 45_000)).toEqual([]);
      expect(await waitEqual(src2, dst2, 30_000)).toEqual([]);
      await waitFor('the new gateway relays the pair', async () => (await health()).relay.joined > 0, 20_000);
    } catch (err) {
      console.log(dump());
      throw err;
    }
  });

  it(
    'refuses strangers, other tenants and malformed hellos with a clear reason, and keeps serving',
    { timeout: 60_000 },
    async () => {
      const other = await createTenant();
      const otherTenant = await agentCredential(other);
      const sameTenant = await agentCredential(h.t); // an agent of this tenant on a server outside the pair
      const refusedBefore = (await health()).relay.refused;
      const silent = rawRelay(credentialOf(source), undefined); // says nothing: refused after 10 s

      const cases: [string, ReturnType<typeof rawRelay>, number, RegExp][] = [
        ['no credential', rawRelay(null, hello()), relayCloseCodes.unauthorized, /No credential/],
        ['unknown credential', rawRelay('x'.repeat(43), hello()), relayCloseCodes.unauthorized, /Unknown credential/],
        [
          'another tenant’s agent',
          rawRelay(otherTenant.credential, hello()),
          relayCloseCodes.notYourPair,
          /not the source of pair/,
        ],
        [
          'an agent outside the pair',
          rawRelay(sameTenant.credential, hello({ role: 'target' })),
          relayCloseCodes.notYourPair,
          /not the target of pair/,
        ],
        [
          'the target posing as the source',
          rawRelay(credentialOf(target), hello()),
          relayCloseCodes.notYourPair,
          /not the source of pair/,
        ],
        [
          'a pair that does not exist',
          rawRelay(credentialOf(source), hello({ pairId: crypto.randomUUID() })),
          relayCloseCodes.notYourPair,
          /not the source of pair/,
        ],
        ['not JSON', rawRelay(credentialOf(source), '{"type":"relay.hello",'), relayCloseCodes.badHello, /not JSON/],
        [
          'a binary hello',
          rawRelay(credentialOf(source), Buffer.from(JSON.stringify(hello()))),
          relayCloseCodes.badHello,
          /text frame/,
        ],
        [
          'a bad pair id',
          rawRelay(credentialOf(source), hello({ pairId: 'pair-1' })),
          relayCloseCodes.badHello,
          /bad hello: pairId/,
        ],
        ['a bad role', rawRelay(credentialOf(source), hello({ role: 'both' })), relayCloseCodes.badHello, /bad hello: role/],
        [
          'a bad stream',
          rawRelay(credentialOf(source), hello({ stream: '../../etc' })),
          relayCloseCodes.badHello,
          /bad hello: stream/,
        ],
        ['an unknown field', rawRelay(credentialOf(source), hello({ key: 'give me' })), relayCloseCodes.badHello, /bad hello/],
        [
          'another version',
          rawRelay(credentialOf(source), hello({ version: 2 })),
          relayCloseCodes.badHello,
          /bad hello: version/,
        ],
        ['an array', rawRelay(credentialOf(source), '[1,2,3]'), relayCloseCodes.badHello, /bad hello/],
        [
          'a huge hello',
          rawRelay(credentialOf(source), JSON.stringify(hello({ pad: 'x'.repeat(10_000) }))),
          relayCloseCodes.badHello,
          /exceeds 4096/,
        ],
      ];
      for (const [what, socket, code, reason] of cases) {
        const out = await socket.closed;
        expect(out.code, what).toBe(code);
        expect(out.reason, what).toMatch(reason);
        expect(out.notices, what).toEqual([]);
      }

      // Bytes before the gateway paired the socket are refused too.
      const early = rawRelay(credentialOf(source), hello({ stream: 'eeeeeeeeeeee' }));
      await early.notice('relay.waiting');
      early.ws.send(Buffer.from('too early'));
      expect(await early.closed).toMatchObject({
        code: relayCloseCodes.badHello,
        reason: expect.stringMatching(/before relay.paired/) as string,
      });

      const quiet = await silent.closed;
      expect(quiet).toMatchObject({ code: relayCloseCodes.badHello, reason: expect.stringMatching(/No relay hello/) as string });

      // Logged with who it was; counted; the gateway still serves the real pair.
      await waitFor(
        'refusals logged',
        () => gw().output().includes(`"agentId":"${otherTenant.agentId}"`) && gw().output().includes('"code":4404'),
      );
      expect(gw().output()).toMatch(/relay refused.*"code":4400.*bad hello/);
      const after = await health();
      expect(after.ok).toBe(true);
      expect(after.relay.refused - refusedBefore).toBeGreaterThanOrEqual(cases.length + 2);
      fs.writeFileSync(path.join(src, 'after the refusals.txt'), 'the gateway is fine');
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
    },
  );

  it(
    'an agent credential is not enough to pass for a side: without the pair key the TLS handshake fails',
    { timeout: 60_000 },
    async () => {
      // What the gateway (or anyone holding the source agent's credential) could try: join the real
      // target's waiting socket for the first root and speak TLS with a key of its own.
      const stream = createHash('sha256').update(src).digest('hex').slice(0, 12);
      const fake = rawRelay(credentialOf(source), hello({ stream }));
      await fake.notice('relay.paired', 15_000);
      const socket = tls.connect({
        ciphers: 'PSK-AES256-GCM-SHA384',
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        socket: createWebSocketStream(fake.ws),
        pskCallback: () => ({ psk: randomBytes(32), identity: `${pairId}:${stream}` }),
        checkServerIdentity: () => undefined,
      });
      const outcome = await new Promise<string>((resolve) => {
        socket.once('error', (err: Error) => resolve(`error: ${err.message}`));
        socket.once('secureConnect', () => resolve('handshake succeeded'));
      });
      expect(outcome).toMatch(/^error/);
      socket.destroy();
      await waitFor('the target reports the failed handshake', async () => {
        const st = actionResults['replication.status'].parse(await h.bus.send(target.agentId, 'replication.status', { pairId }));
        return st.errors.some((e) => e.startsWith(`${src}: relay handshake failed`));
      });
      // The real channel is untouched.
      fs.writeFileSync(path.join(src, 'after the impostor.txt'), 'still replicated');
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
    },
  );

  it('joins two sockets byte for byte and enforces its limits', { timeout: 60_000 }, async () => {
    const s = credentialOf(source);
    const t = credentialOf(target);

    // One waiting socket per pair, side and stream: a newer one replaces it.
    const t1 = rawRelay(t, hello({ role: 'target' }));
    await t1.notice('relay.waiting');
    const t2 = rawRelay(t, hello({ role: 'target' }));
    await t2.notice('relay.waiting');
    expect(await t1.closed).toMatchObject({
      code: relayCloseCodes.replaced,
      reason: expect.stringMatching(/Replaced by a newer relay/) as string,
    });

    // The source joins: both hear relay.paired and every byte crosses unchanged, both ways.
    const s1 = rawRelay(s, hello());
    await Promise.all([s1.notice('relay.paired'), t2.notice('relay.paired')]);
    const payload = randomBytes(700_000);
    for (let off = 0; off < payload.length; off += 65_536) s1.ws.send(payload.subarray(off, off + 65_536), { binary: true });
    await waitFor('payload across the relay', () => t2.received().length >= payload.length);
    expect(t2.received().equals(payload)).toBe(true);
    t2.ws.send(Buffer.from('ack from the target'), { binary: true });
    await waitFor('answer across the relay', () => s1.received().toString() === 'ack from the target');

    // Then nothing for longer than RELAY_IDLE_MS: both ends are closed as idle.
    const [idleS, idleT] = await Promise.all([s1.closed, t2.closed]);
    for (const out of [idleS, idleT])
      expect(out).toMatchObject({ code: relayCloseCodes.timedOut, reason: expect.stringMatching(/idle/) as string });
    // Counted per join, in the gateway's log line for it.
    await waitFor('the join logged with its byte counts', () =>
      /relay ended.*"stream":"ffffffffffff".*"bytesToTarget":700000,"bytesToSource":19/.test(gw().output()),
    );

    // A side alone waits RELAY_WAIT_MS at most.
    const lonely = rawRelay(t, hello({ role: 'target', stream: 'dddddddddddd' }));
    await lonely.notice('relay.waiting');
    expect(await lonely.closed).toMatchObject({
      code: relayCloseCodes.timedOut,
      reason: expect.stringMatching(/No source joined within 3 s/) as string,
    });

    // Closing one side closes the other.
    const a = rawRelay(t, hello({ role: 'target', stream: 'cccccccccccc' }));
    await a.notice('relay.waiting');
    const b = rawRelay(s, hello({ stream: 'cccccccccccc' }));
    await Promise.all([a.notice('relay.paired'), b.notice('relay.paired')]);
    b.ws.close(1000, 'done');
    expect(await a.closed).toMatchObject({ code: relayCloseCodes.peerClosed, reason: 'The other agent closed the relay' });

    // At most RELAY_MAX_PER_PAIR sockets per pair (the real pair holds a few of them).
    const many = Array.from({ length: 20 }, (_, i) =>
      rawRelay(t, hello({ role: 'target', stream: i.toString(16).padStart(12, 'a') })),
    );
    const outcomes = await Promise.all(many.map((m) => Promise.race([m.closed, m.notice('relay.waiting').then(() => null)])));
    const tooMany = outcomes.filter((o) => o?.code === relayCloseCodes.tooMany);
    expect(tooMany.length).toBeGreaterThan(0);
    expect(tooMany[0]!.reason).toMatch(/already holds 16 relay connections/);
    for (const m of many) m.ws.close();
    await Promise.all(many.map((m) => m.closed));
    // The real pair was never starved: it still replicates.
    fs.writeFileSync(path.join(src, 'after the limits.txt'), 'fine');
    expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
  });

  it('a disabled pair, or one set to the direct route, gets no relay', { timeout: 90_000 }, async () => {
    const direct = await ownerDb().protectionPair.create({
      data: {
        organizationId: h.t.org.id,
        customerId: h.t.customerX.id,
        name: `relay-direct-${crypto.randomUUID().slice(0, 8)}`,
        sourceServerId: source.serverId,
        targetServerId: target.serverId,
        application: 'generic_service',
        status: 'mirroring',
        connectionSettings: { ...relaySettings().connection, routeMode: 'direct' },
      },
    });
    const directOut = await rawRelay(credentialOf(source), hello({ pairId: direct.id })).closed;
    expect(directOut).toMatchObject({ code: relayCloseCodes.notAllowed, reason: 'The pair is not set to the relay route' });

    const caller = callerFor(h.t.operator.id);
    const { operationId } = await caller.pair.disable({ pairId });
    await waitFor(
      'disable finished',
      async () => (await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } })).status === 'succeeded',
      60_000,
    );
    for (const a of [source, target]) {
      const st = actionResults['replication.status'].parse(await h.bus.send(a.agentId, 'replication.status', { pairId }));
      expect(st.running).toBe(false);
    }
    await waitFor('no relay left for the pair', async () => {
      const r = (await health()).relay;
      return r.active === 0 && r.waiting === 0;
    });
    const out = await rawRelay(credentialOf(target), hello({ role: 'target' })).closed;
    expect(out).toMatchObject({ code: relayCloseCodes.notAllowed, reason: 'Protection of the pair is not enabled' });
    // Neither agent fell over on the way (dropped relays, refusals, impostors).
    for (const a of [source, target]) expect(a.handle.child.exitCode, a.handle.output().slice(-3000)).toBeNull();
  });
});
