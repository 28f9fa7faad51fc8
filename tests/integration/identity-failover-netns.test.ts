// Identity failover between network namespaces, with the real address.ensure action (run inside
// each namespace, as the agent there would run it), real `ip` and a real gratuitous ARP.
// Three namespaces made for this test only — source, target and client — share one Ethernet
// segment: a bridge in the client namespace with a veth to each of the others, on the private
// subnet 10.213.0.0/24 (and fd13:213::/64). Nothing is created outside those namespaces, and
// afterAll deletes them (with everything in them) however the test ended.
// The service address 10.213.0.100 starts on the source, whose TCP server answers "source"; the
// target's answers "target". Moving the address (absent on the source, present on the target)
// must update the client's ARP cache at once (the gratuitous ARP) and reach the target.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/agents';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const tag = randomBytes(3).toString('hex');
const ns = { source: `tdm-src-${tag}`, target: `tdm-tgt-${tag}`, client: `tdm-cli-${tag}` };
const SERVICE = '10.213.0.100';
const PORT = 7000;
const servers: ChildProcess[] = [];

const ip = (namespace: string, ...args: string[]) => execFileSync('ip', ['-n', namespace, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

interface ActionOutcome {
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Runs one agent action (runAction, the agent's own code) inside a namespace. */
async function actionIn(namespace: string, action: string, args: unknown): Promise<ActionOutcome> {
  const code = `
const { runAction } = await import(process.env.TANDEM_ACTIONS_MODULE);
try {
  const result = await runAction(process.env.TANDEM_ACTION, JSON.parse(process.env.TANDEM_ARGS), { hooksDir: '/nonexistent' });
  console.log(JSON.stringify({ ok: true, result }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: e.message }));
}`;
  const { stdout } = await run('ip', ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repo,
    env: {
      ...process.env,
      TANDEM_ACTIONS_MODULE: path.join(repo, 'apps/agent/src/actions/index.ts'),
      TANDEM_ACTION: action,
      TANDEM_ARGS: JSON.stringify(args),
    },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ActionOutcome;
}

/** A TCP server in a namespace, on every address, answering `word` to each connection. */
async function serve(namespace: string, word: string) {
  const code = `require('node:net').createServer((s) => s.end(${JSON.stringify(word)})).listen(${PORT}, '::', () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`the ${word} server exited (${c})`)));
  });
}

/** What the client namespace gets from the service address ('' when nothing answers within 1 s). */
async function ask(address = SERVICE): Promise<string> {
  const code = `
const s = require('node:net').connect(${PORT}, ${JSON.stringify(address)});
let got = '';
s.setTimeout(1000, () => s.destroy());
s.on('data', (d) => (got += d)).on('close', () => console.log(got)).on('error', () => undefined);`;
  const { stdout } = await run('ip', ['netns', 'exec', ns.client, process.execPath, '-e', code], { timeout: 10_000 });
  return stdout.trim();
}

const macOf = (namespace: string) => (JSON.parse(ip(namespace, '-j', 'link', 'show', 'eth0')) as { address: string }[])[0]!.address;
/** The MAC the client's neighbour table holds for an address, or null. */
function clientNeighbour(address: string): string | null {
  const entries = JSON.parse(ip(ns.client, '-j', 'neigh', 'show', address, 'dev', 'br0')) as { lladdr?: string }[];
  return entries[0]?.lladdr ?? null;
}
const addressesOf = (namespace: string) =>
  (JSON.parse(ip(namespace, '-j', 'addr', 'show', 'dev', 'eth0')) as { addr_info: { local: string }[] }[])[0]!.addr_info.map((a) => a.local);

beforeAll(() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('this test needs root on Linux (it creates network namespaces)');
  for (const name of Object.values(ns)) execFileSync('ip', ['netns', 'add', name]);
  ip(ns.client, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.client, 'addr', 'add', '10.213.0.3/24', 'dev', 'br0');
  ip(ns.client, 'addr', 'add', 'fd13:213::3/64', 'dev', 'br0', 'nodad');
  ip(ns.client, 'link', 'set', 'br0', 'up');
  // Each veth is created straight inside the namespaces: no interface ever exists outside them.
  for (const [side, port, own] of [
    [ns.source, 'vsrc', '1'],
    [ns.target, 'vtgt', '2'],
  ] as const) {
    ip(ns.client, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', side);
    ip(ns.client, 'link', 'set', port, 'master', 'br0', 'up');
    ip(side, 'addr', 'add', `10.213.0.${own}/24`, 'dev', 'eth0');
    ip(side, 'addr', 'add', `fd13:213::${own}/64`, 'dev', 'eth0', 'nodad');
    ip(side, 'link', 'set', 'eth0', 'up');
    ip(side, 'link', 'set', 'lo', 'up');
  }
  ip(ns.source, 'addr', 'add', `${SERVICE}/24`, 'dev', 'eth0');
}, 60_000);

afterAll(() => {
  for (const child of servers) child.kill('SIGKILL');
  for (const name of Object.values(ns)) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // Never created.
    }
  }
});

describe('identity failover between network namespaces', () => {
  it('moves the service address from the source to the target; the client reaches the target at once', { timeout: 90_000 }, async () => {
    await serve(ns.source, 'source');
    await serve(ns.target, 'target');
    await waitFor('the source to answer on the service address', async () => (await ask()) === 'source', 10_000);
    expect(clientNeighbour(SERVICE)).toBe(macOf(ns.source));

    // Failover: off the source, onto the target (into the interface whose subnet holds it).
    expect(await actionIn(ns.source, 'address.ensure', { address: SERVICE, prefix: 24, present: false })).toEqual({
      ok: true,
      result: { present: false, changed: true, interface: 'eth0', announced: false },
    });
    expect(addressesOf(ns.source)).not.toContain(SERVICE);
    expect(await actionIn(ns.target, 'address.ensure', { address: SERVICE, prefix: 24, present: true })).toEqual({
      ok: true,
      result: { present: true, changed: true, interface: 'eth0', announced: true },
    });
    expect(addressesOf(ns.target)).toContain(SERVICE);
    // The gratuitous ARP has already replaced the source's MAC in the client's cache…
    expect(clientNeighbour(SERVICE)).toBe(macOf(ns.target));
    // …so the client reaches the target without waiting for its cache to expire.
    await waitFor('the client to reach the target', async () => (await ask()) === 'target', 5_000);

    // Sent again (a re-sent step): nothing changes.
    expect(await actionIn(ns.target, 'address.ensure', { address: SERVICE, prefix: 24, present: true })).toMatchObject({
      ok: true,
      result: { present: true, changed: false, interface: 'eth0' },
    });
    expect(await actionIn(ns.source, 'address.ensure', { address: SERVICE, prefix: 24, present: false })).toEqual({
      ok: true,
      result: { present: false, changed: false, interface: null, announced: false },
    });

    // Failback: the same two steps the other way round.
    await actionIn(ns.target, 'address.ensure', { address: SERVICE, prefix: 24, present: false });
    expect(await actionIn(ns.source, 'address.ensure', { address: SERVICE, prefix: 24, present: true })).toMatchObject({
      ok: true,
      result: { present: true, changed: true, announced: true },
    });
    expect(clientNeighbour(SERVICE)).toBe(macOf(ns.source));
    await waitFor('the client to reach the source again', async () => (await ask()) === 'source', 5_000);
  });

  it('refuses an address outside every subnet of the target; force adds it to the named interface', { timeout: 60_000 }, async () => {
    const outside = { address: '10.214.0.100', prefix: 24, present: true };
    expect(await actionIn(ns.target, 'address.ensure', outside)).toEqual({
      ok: false,
      error: 'no interface of this server is in the subnet of 10.214.0.100/24: name an interface and use force to add it anyway',
    });
    expect(await actionIn(ns.target, 'address.ensure', { ...outside, interface: 'eth0' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('interface "eth0" has no address in the subnet of 10.214.0.100/24') as unknown,
    });
    expect(addressesOf(ns.target)).not.toContain('10.214.0.100');
    expect(await actionIn(ns.target, 'address.ensure', { ...outside, interface: 'nosuch0', force: true })).toMatchObject({
      ok: false,
      error: expect.stringContaining('interface "nosuch0" does not exist') as unknown,
    });
    expect(await actionIn(ns.target, 'address.ensure', { ...outside, interface: 'eth0', force: true })).toEqual({
      ok: true,
      result: { present: true, changed: true, interface: 'eth0', announced: true },
    });
    expect(addressesOf(ns.target)).toContain('10.214.0.100');
  });

  it('IPv6: adds after duplicate address detection, reports the announcement as the kernel will make it, and refuses a duplicate', { timeout: 60_000 }, async () => {
    // ndisc_notify is off by default: no unsolicited neighbour advertisement, and it says so.
    expect(await actionIn(ns.target, 'address.ensure', { address: 'fd13:213::100', prefix: 64, present: true })).toEqual({
      ok: true,
      result: { present: true, changed: true, interface: 'eth0', announced: false },
    });
    await waitFor('the client to reach the target over IPv6', async () => (await ask('fd13:213::100')) === 'target', 10_000);

    // The source still holds fd13:213::200: duplicate address detection on the target finds it.
    ip(ns.source, 'addr', 'add', 'fd13:213::200/64', 'dev', 'eth0', 'nodad');
    expect(await actionIn(ns.target, 'address.ensure', { address: 'fd13:213::200', prefix: 64, present: true })).toEqual({
      ok: false,
      error: 'fd13:213::200 is already in use by another host on eth0 (duplicate address detection failed); it was not kept',
    });
    expect(addressesOf(ns.target)).not.toContain('fd13:213::200');
  });
});
