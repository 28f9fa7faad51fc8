// validate.facts from a real agent process through a real gateway (AgentBus → Redis → gateway →
// agent), against the real machine: paths with their real owner, mode, used bytes and volume; a
// small tmpfs mounted for the test (low free space); a real SysV service; a process holding a file
// open for writing; an nftables table of the test's own; a collector that fails (a path in a
// symbolic-link loop) making only its own section unknown; and malformed arguments refused with
// the connection still serving.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, signOrder, type GatewayOrder } from '@tandem/agent-bus';
import type { ValidationFacts, ValidationFactsArgs } from '@tandem/engine';
import { AGENT_VERSION } from '../../apps/agent/src/version.ts';
import { tempDir, waitFor } from './support/agents';
import { dropOnLoopback, type Cut } from './support/firewall';
import type { ReplicationHarness, Enrolled } from './support/replication/agents';
import { installTestService, type TestService } from './support/sysv-service';
import { validationAgent } from './support/validation-agent';

const isRootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
let h: ReplicationHarness;
let agent: Enrolled;
let service: TestService;
let work = '';
let small = '';
let smallMounted = false;
let writer: ChildProcess | null = null;
let reader: ChildProcess | null = null;
let table: Cut | null = null;
const OPEN_PORT = 40_000 + Math.floor(Math.random() * 10_000);
const CLOSED_PORT = OPEN_PORT + 1;

const args = (over: Partial<ValidationFactsArgs> = {}): ValidationFactsArgs => ({
  paths: [],
  ports: [],
  services: [],
  openFilesUnder: [],
  postgres: null,
  apps: [],
  ...over,
});

const validate = (over: Partial<ValidationFactsArgs> = {}) => h.bus.send(agent.agentId, 'validate.facts', args(over), { timeoutMs: 90_000 });

function ok<K extends keyof ValidationFacts>(facts: ValidationFacts, key: K): Extract<ValidationFacts[K], { status: 'ok' }>['data'] {
  const section = facts[key] as { status: string; data?: unknown; reason?: string };
  if (section.status !== 'ok') throw new Error(`${String(key)} is ${section.status}: ${section.reason}`);
  return section.data;
}

/** The mount point `df` names for a path (what the agent should call its volume). */
const mountPointOf = (p: string) => execFileSync('df', ['--output=target', p], { encoding: 'utf8' }).trim().split('\n').pop()!.trim();

beforeAll(async () => {
  if (!isRootOnLinux) throw new Error('these tests need root on Linux (a SysV service, a tmpfs mount, nftables)');
  ({ h, agent } = await validationAgent('vf'));
  work = tempDir('validate-facts');
  h.cleanup.push(work);
  service = installTestService('vf');
  execFileSync(service.scriptPath, ['start']);

  // A data directory of known content, owned by nobody, mode 0750.
  const data = path.join(work, 'data');
  fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(data, 'a.bin'), Buffer.alloc(40_000, 1));
  fs.writeFileSync(path.join(data, 'sub', 'b.bin'), Buffer.alloc(123_456, 2));
  fs.linkSync(path.join(data, 'a.bin'), path.join(data, 'sub', 'a-again.bin')); // Counted once.
  execFileSync('chown', ['-R', 'nobody:nogroup', data]);
  fs.chmodSync(data, 0o750);

  // A 1 MiB tmpfs, mostly full.
  small = path.join(work, 'small');
  fs.mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,noexec', 'tmpfs', small]);
  smallMounted = true;
  fs.writeFileSync(path.join(small, 'fill.bin'), Buffer.alloc(900 * 1024, 3));

  // One process writing a file under `open`, one only reading another.
  const open = path.join(work, 'open');
  fs.mkdirSync(open);
  fs.writeFileSync(path.join(open, 'read.log'), 'x');
  writer = spawn('sh', ['-c', `exec 3>>'${path.join(open, 'write.log')}'; exec sleep 600`], { stdio: 'ignore' });
  reader = spawn('sh', ['-c', `exec 3<'${path.join(open, 'read.log')}'; exec sleep 600`], { stdio: 'ignore' });
  await waitFor('the writer to hold its file', () => fs.readdirSync(`/proc/${writer!.pid}/fd`).length > 3 && fs.readlinkSync(`/proc/${writer!.pid}/exe`).endsWith('sleep'));
  await waitFor('the reader to hold its file', () => fs.readlinkSync(`/proc/${reader!.pid}/exe`).endsWith('sleep'));

  // Our own nftables table: accept one port, drop the next (policy accept: nothing else changes).
  table = dropOnLoopback('vf', [`tcp dport ${OPEN_PORT} accept`, `tcp dport ${CLOSED_PORT} drop`]);
}, 180_000);

afterAll(async () => {
  table?.restore();
  writer?.kill('SIGKILL');
  reader?.kill('SIGKILL');
  if (smallMounted) execFileSync('umount', [small]);
  service?.remove();
  await h?.teardown();
});

describe('validate.facts through a real agent', { timeout: 120_000 }, () => {
  it('answers every collector', async () => {
    const facts = await validate({ ports: [{ port: OPEN_PORT, protocol: 'tcp' }, { port: CLOSED_PORT, protocol: 'tcp' }] });
    const sections = Object.entries(facts).filter(([k]) => !['collectedAt', 'apps'].includes(k));
    expect(sections.filter(([, v]) => (v as { status: string }).status !== 'ok')).toEqual([]);
    expect(sections.map(([k]) => k).sort()).toEqual(
      ['account', 'cloud', 'firewall', 'hooks', 'hostsFile', 'interfaces', 'listening', 'modules', 'openFiles', 'paths', 'postgres', 'services', 'time', 'volumes'].sort(),
    );
    expect(ok(facts, 'postgres')).toBeNull(); // None asked for.
    expect(facts.apps).toEqual({});

    const account = ok(facts, 'account');
    expect(account).toMatchObject({ kind: 'root', name: 'root' });
    expect(account.privileges).toEqual(expect.arrayContaining(['CAP_CHOWN', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER']));
    expect(ok(facts, 'modules')).toEqual(
      expect.arrayContaining([
        { name: 'core', version: AGENT_VERSION, state: 'loaded', error: null },
        { name: 'dns', version: AGENT_VERSION, state: 'loaded', error: null },
        { name: 'postgres', version: AGENT_VERSION, state: 'loaded', error: null },
      ]),
    );

    const hooks = ok(facts, 'hooks');
    expect(hooks).toMatchObject({ dir: path.join(agent.dir, 'hooks'), noexec: false, allowed: true });
    expect(hooks.interpreters.bash).toMatch(/^\d+\.\d+/);
    expect(hooks.interpreters.sh).not.toBeNull();

    // This machine runs no time service: reported as none, not as an error.
    expect(ok(facts, 'time')).toEqual({ service: null, synchronized: null, sources: [] });

    const firewall = ok(facts, 'firewall');
    expect(firewall.manager).toBe('nftables');
    expect(firewall.agentManaged).toBe(true);
    expect(firewall.ports).toEqual([
      { port: OPEN_PORT, protocol: 'tcp', open: true },
      { port: CLOSED_PORT, protocol: 'tcp', open: false },
    ]);

    const hosts = ok(facts, 'hostsFile');
    expect(hosts).toEqual(expect.arrayContaining([{ address: '127.0.0.1', names: expect.arrayContaining(['localhost']) as string[] }]));
    expect(ok(facts, 'interfaces').every((i) => i.registersInDns === null)).toBe(true);
    // The gateway the agent talks to listens on its port (a node process).
    expect(ok(facts, 'listening')).toEqual(expect.arrayContaining([expect.objectContaining({ protocol: 'tcp', port: h.gw.port, process: 'node' })]));
    expect(ok(facts, 'cloud')).toBeNull(); // No DMI here: neither a cloud nor a known hypervisor.
  });

  it('reports paths with their real owner, mode, used bytes and volume', async () => {
    const data = path.join(work, 'data');
    const absent = path.join(small, 'not', 'yet');
    const facts = await validate({ paths: [data, absent, path.join(data, 'a.bin')] });
    const [dir, missing, file] = ok(facts, 'paths');
    const du = Number(execFileSync('du', ['-sxB1', data], { encoding: 'utf8' }).split('\t')[0]);
    expect(dir).toEqual({ path: data, exists: true, type: 'dir', owner: 'nobody', uid: 65534, gid: fs.statSync(data).gid, mode: 0o750, usedBytes: du, volume: mountPointOf(data) });
    expect(missing).toEqual({ path: absent, exists: false, type: null, owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume: small });
    expect(file).toMatchObject({ type: 'file', owner: 'nobody', usedBytes: fs.statSync(path.join(data, 'a.bin')).blocks * 512 });
  });

  it('reports a nearly full volume with its real size and free space', async () => {
    const facts = await validate({ paths: [small] });
    const volumes = ok(facts, 'volumes');
    const s = fs.statfsSync(small);
    const tmp = volumes.find((v) => v.mountPoint === small);
    expect(tmp).toEqual({ mountPoint: small, fileSystem: 'tmpfs', sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize, system: false, features: expect.arrayContaining(['noexec']) as string[] });
    expect(tmp!.sizeBytes).toBe(1024 * 1024);
    expect(tmp!.freeBytes).toBeLessThan(200 * 1024);
    expect(volumes.find((v) => v.mountPoint === '/')).toMatchObject({ system: true });
  });

  it('describes a real SysV service: state, start mode, account and definition', async () => {
    const missing = `tandem-vf-missing-${randomUUID().slice(0, 8)}`;
    let facts = await validate({ services: [service.name, missing] });
    let services = ok(facts, 'services');
    const script = fs.readFileSync(service.scriptPath, 'utf8');
    expect(services.find((s) => s.name === service.name)).toEqual({
      name: service.name,
      state: 'running',
      startMode: 'manual',
      account: 'root',
      definitionDigest: createHash('sha256').update(`${service.scriptPath}\0${script}\0`).digest('hex'),
      definition: { Script: service.scriptPath, User: 'root' },
      dependencies: [],
    });
    expect(services.find((s) => s.name === missing)).toMatchObject({ state: 'not-found', startMode: 'unknown' });

    execFileSync(service.scriptPath, ['stop']);
    execFileSync('update-rc.d', [service.name, 'defaults']);
    facts = await validate({ services: [service.name] });
    services = ok(facts, 'services');
    expect(services.find((s) => s.name === service.name)).toMatchObject({ state: 'stopped', startMode: 'auto' });
  });

  it('sees a process holding a file open for writing, not one only reading', async () => {
    const open = path.join(work, 'open');
    const facts = await validate({ openFilesUnder: [open] });
    expect(ok(facts, 'openFiles')).toEqual([{ path: path.join(open, 'write.log'), pid: writer!.pid, process: 'sleep' }]);
  });

  it('makes only the failing collector unknown (a path in a symbolic-link loop)', async () => {
    const loop = path.join(work, 'loop');
    fs.symlinkSync(loop, loop);
    const facts = await validate({ paths: [path.join(work, 'data'), loop], openFilesUnder: [path.join(work, 'open')] });
    expect(facts.paths).toEqual({ status: 'unknown', reason: expect.stringContaining(loop) as string });
    expect(facts.paths).toMatchObject({ reason: expect.stringMatching(/ELOOP|too many (levels of )?symbolic links/i) as string });
    for (const key of ['account', 'volumes', 'services', 'openFiles', 'hooks', 'firewall', 'listening'] as const) expect(facts[key].status).toBe('ok');
    expect(ok(facts, 'openFiles')).toHaveLength(1);
  });

  it('refuses malformed arguments with a clear error, and the connection keeps serving', async () => {
    await expect(h.bus.send(agent.agentId, 'validate.facts', { ...args(), paths: 'not a list' } as never)).rejects.toThrow(/paths/);

    // Sent past the bus's own check, straight to the gateway: the agent itself refuses.
    const reply = await rawCommand(agent.agentId, 'validate.facts', { paths: [42], ports: [{ port: 0, protocol: 'tcp' }], services: [], openFilesUnder: [], postgres: null, apps: [] });
    expect(reply).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Invalid arguments for validate\.facts: .*"paths\.0".*"ports\.0\.port"/s) as string } });
    const again = await validate();
    expect(again.account.status).toBe('ok');
  });
});

/** Publishes a signed order with unchecked arguments and waits for the agent's result. */
async function rawCommand(agentId: string, action: string, rawArgs: unknown): Promise<{ ok: boolean; error?: { message: string } }> {
  const redis = new Redis(process.env.REDIS_URL!);
  const sub = new Redis(process.env.REDIS_URL!);
  try {
    const commandId = randomUUID();
    const result = new Promise<{ ok: boolean; error?: { message: string } }>((resolve) => {
      sub.on('message', (_channel: string, raw: string) => {
        const r = JSON.parse(raw) as { stage: string; ok: boolean; error?: { message: string } };
        if (r.stage === 'result') resolve(r);
      });
    });
    await sub.subscribe(keys.reply(commandId));
    const order = { kind: 'command', agentId, commandId, action, args: rawArgs, timeoutMs: 30_000 } as unknown as GatewayOrder;
    await redis.publish(keys.gateway((await redis.get(keys.location(agentId)))!), signOrder(process.env.TANDEM_BUS_KEY!, order));
    return await Promise.race([result, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no result within 30 s')), 30_000))]);
  } finally {
    redis.disconnect();
    sub.disconnect();
  }
}
