// Pacemaker cluster actions (crm_resource, crm_mon, cibadmin). Each states a desired state; sent
// again, it finds that state and changes nothing.
//
// cluster.resource-ensure: online = the resource's (or group's) target-role meta attribute is
// Started (it is set only when it says otherwise, e.g. Stopped); offline = target-role Stopped.
// With a node: when the resource does not run there yet, `crm_resource --move --node N` adds the
// usual cli-prefer-<id> location constraint (INFINITY on N); once the resource runs on N that
// constraint is deleted again, so no placement rule is left behind (a cli-prefer-<id> left by an
// interrupted earlier call, or by an operator's move, is deleted the same way). Afterwards the
// resource stays on N unless other constraints prefer another node more than its stickiness
// holds it. The state is waited for by polling crm_mon until it holds or timeoutMs passes; a
// timeout names what crm_mon showed last (e.g. "Stopped", "Started on n2", "(failed)"). A group
// is online when every member runs; a member with its own target-role Stopped, or a failed one
// (failcount, see crm_resource --cleanup), keeps it from that, and the error says so.
//
// cluster.config-read: `cibadmin --query` without its <status> section (the live state, which the
// cluster rebuilds): the <cib> element keeps its validate-with and epochs, so the content can be
// restored as is. sha256 covers the canonical <configuration> only (cib.ts).
//
// cluster.config-replace: the running CIB with its <configuration> swapped for the content's,
// admin_epoch raised above the running one (epoch+1, num_updates 0), then `cibadmin --replace`.
// The highest (admin_epoch, epoch, num_updates) wins when nodes join, so nodes that were stopped
// during a restore take this configuration when they start again: the authoritative part.
//
// cluster.stack-ensure: corosync and pacemaker on this node. With systemd: systemctl start
// corosync pacemaker / stop pacemaker corosync. Without systemd (containers, tests): the daemons
// directly — corosync (it detaches itself) then pacemakerd (detached by us); stopping is
// `pacemakerd --shutdown` then `corosync-cfgtool -H`. Either way waited for by the processes.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ActionArgs } from '@tandem/protocol';
import type { CommandResult, CommandRunner } from '../../exec.ts';
import { detectServiceManager } from '../../facts/services.ts';
import { defaultIO } from '../../facts/io.ts';
import { clip } from '../../facts/util.ts';
import { child, children, descendants, parseXml, type XmlElement } from '../../facts/xml.ts';
import { cibEpoch, cibRoot, configurationOf, configurationSha256, escapeAttr } from './cib.ts';
import { MAX_CLUSTER_CONFIG_BYTES } from '@tandem/protocol';

const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function failed(what: string, r: CommandResult): Error {
  const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
  return new Error(`${what} failed (exit ${r.code ?? 'by signal'})${detail ? `: ${clip(detail, 1000)}` : ''}`);
}

async function must(run: CommandRunner, cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.code !== 0) throw failed(`${cmd} ${args.slice(0, 4).join(' ')}`, r);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Resource state from crm_mon

const ONLINE_ROLES = new Set(['Started', 'Promoted', 'Unpromoted', 'Master', 'Slave']);

export interface Observed {
  state: 'online' | 'offline' | 'changing';
  /** Nodes where an instance runs. */
  nodes: string[];
  /** Readable: "Started on n1", "Stopped", "Starting", "Started on n1 (failed)". */
  detail: string;
}

function findResourceEl(top: XmlElement, id: string): XmlElement | undefined {
  const all = [
    ...descendants(child(top, 'resources'), 'group'),
    ...descendants(child(top, 'resources'), 'clone'),
    ...descendants(child(top, 'resources'), 'bundle'),
  ];
  return all.find((e) => e.attrs.id === id);
}

/** Where a resource or group stands according to `crm_mon --output-as=xml`. */
export function observeResource(crmMonXml: string, id: string, kind: 'resource' | 'group'): Observed {
  const top = parseXml(crmMonXml).children[0]!;
  if (!child(top, 'resources')) throw new Error('crm_mon printed no resources section');
  const container = findResourceEl(top, id);
  const instances = container
    ? descendants(container, 'resource')
    : descendants(child(top, 'resources'), 'resource').filter((r) => r.attrs.id === id);
  if (instances.length === 0) throw new Error(`${kind} "${id}" is not in the cluster's status (crm_mon)`);
  const up = (r: XmlElement) => ONLINE_ROLES.has(r.attrs.role ?? '') && r.attrs.active !== 'false' && r.attrs.failed !== 'true';
  const down = (r: XmlElement) => r.attrs.role === 'Stopped' && r.attrs.active !== 'true';
  const nodesOf = (r: XmlElement) =>
    children(r, 'node')
      .map((n) => n.attrs.name ?? '')
      .filter(Boolean);
  const describe = (r: XmlElement) => {
    const nodes = nodesOf(r);
    return `${instances.length > 1 ? `${r.attrs.id}: ` : ''}${r.attrs.role ?? 'unknown'}${nodes.length ? ` on ${nodes.join(', ')}` : ''}${r.attrs.failed === 'true' ? ' (failed)' : ''}`;
  };
  const detail = [...new Set(instances.map(describe))].join('; ');
  const isGroup = container?.name === 'group';
  const online = isGroup ? instances.every(up) : instances.some(up);
  const nodes = [...new Set(instances.filter(up).flatMap(nodesOf))];
  if (online) return { state: 'online', nodes, detail };
  if (instances.every(down)) return { state: 'offline', nodes: [], detail };
  return { state: 'changing', nodes, detail };
}

// ---------------------------------------------------------------------------------------------
// cluster.resource-ensure

/** The element for id in the CIB's <resources>, with its own and its parents' target-role. */
function configuredResource(
  conf: XmlElement,
  id: string,
): { el: XmlElement; own: string | null; effective: string | null } | null {
  const meta = (el: XmlElement) => {
    for (const set of children(el, 'meta_attributes')) {
      const nv = children(set, 'nvpair').find((n) => n.attrs.name === 'target-role');
      if (nv?.attrs.value !== undefined) return nv.attrs.value;
    }
    return null;
  };
  const walk = (el: XmlElement, inherited: string | null): ReturnType<typeof configuredResource> => {
    for (const c of el.children) {
      if (!['primitive', 'group', 'clone', 'master', 'bundle'].includes(c.name)) continue;
      const own = meta(c);
      if (c.attrs.id === id) return { el: c, own, effective: own ?? inherited };
      const found = walk(c, own ?? inherited);
      if (found) return found;
    }
    return null;
  };
  return walk(child(conf, 'resources') ?? { name: 'resources', attrs: {}, children: [] }, null);
}

export async function ensurePacemakerResource(
  run: CommandRunner,
  args: ActionArgs<'cluster.resource-ensure'>,
): Promise<{ state: 'online' | 'offline'; node: string | null; changed: boolean }> {
  const { resource: id, kind, state: want, node, timeoutMs } = args;
  const deadline = Date.now() + timeoutMs;
  const conf = configurationOf(cibRoot(await must(run, 'cibadmin', ['--query', '--scope', 'configuration'])));
  const configured = configuredResource(conf, id);
  if (!configured) throw new Error(`${kind} "${id}" is not configured in this cluster`);
  if (kind === 'group' && configured.el.name !== 'group') throw new Error(`"${id}" is a ${configured.el.name}, not a group`);
  if (kind === 'resource' && configured.el.name === 'group') throw new Error(`"${id}" is a group (use kind "group")`);
  const preferId = `cli-prefer-${id}`;
  const strayPrefer = children(child(conf, 'constraints'), 'rsc_location').some((c) => c.attrs.id === preferId);

  const observe = async () => observeResource(await must(run, 'crm_mon', ['-1', '--output-as=xml'], 20_000), id, kind);
  const holds = (o: Observed) => o.state === want && (want === 'offline' || node === null || o.nodes.includes(node));
  const setRole = (role: 'Started' | 'Stopped') =>
    must(run, 'crm_resource', ['--resource', id, '--meta', '--set-parameter', 'target-role', '--parameter-value', role]);

  let changed = false;
  const before = await observe();
  if (want === 'online') {
    if (node !== null && !(before.state === 'online' && before.nodes.includes(node))) {
      const r = await run('crm_resource', ['--resource', id, '--move', '--node', node], { timeoutMs: 30_000 });
      // "Requested item already exists": it is already placed there (or our constraint is).
      if (r.code !== 0 && !/already exists/i.test(r.stderr)) throw failed(`crm_resource --move ${id} to ${node}`, r);
      changed = true;
    }
    if (configured.effective !== null && configured.effective !== 'Started' && configured.effective !== 'Promoted') {
      await setRole('Started');
      changed = true;
    }
  } else if (configured.effective !== 'Stopped') {
    await setRole('Stopped');
    changed = true;
  }

  let now = before;
  while (!holds(now)) {
    if (Date.now() >= deadline) {
      throw new Error(
        `${kind} "${id}" did not become ${want}${want === 'online' && node ? ` on ${node}` : ''} within ${timeoutMs} ms: it is ${now.detail}`,
      );
    }
    await sleep(POLL_MS);
    now = await observe();
  }
  if (want === 'online' && (changed || strayPrefer) && node !== null) {
    // The move's preference has done its job; leave no placement rule behind.
    const r = await run('cibadmin', ['--delete', '--xml-text', `<rsc_location id="${escapeAttr(preferId)}"/>`], {
      timeoutMs: 30_000,
    });
    if (r.code !== 0 && !/not found|no such/i.test(r.stderr)) throw failed(`cibadmin --delete ${preferId}`, r);
    if (strayPrefer) changed = true;
  }
  return { state: want, node: want === 'online' ? (node ?? now.nodes[0] ?? null) : null, changed };
}

// ---------------------------------------------------------------------------------------------
// cluster.config-read / cluster.config-replace

function withoutStatus(cibText: string): string {
  return cibText.replace(/<status\b[^>]*\/>|<status\b[^>]*>[\s\S]*<\/status>/, '<status/>');
}

export async function readPacemakerConfig(run: CommandRunner) {
  const text = await must(run, 'cibadmin', ['--query'], 60_000);
  const content = withoutStatus(text).trim() + '\n';
  if (Buffer.byteLength(content) > MAX_CLUSTER_CONFIG_BYTES)
    throw new Error(`the CIB is larger than ${MAX_CLUSTER_CONFIG_BYTES} bytes`);
  const top = cibRoot(content);
  return { format: 'pacemaker-cib' as const, content, epoch: cibEpoch(top), sha256: configurationSha256(top) };
}

const CONFIGURATION_SECTION = /<configuration\b[^>]*\/>|<configuration\b[^>]*>[\s\S]*<\/configuration>/;

/** The running CIB's text with another <configuration> and the version raised above its own. */
export function authoritativeCib(running: string, content: string): { xml: string; epoch: string } {
  const conf = CONFIGURATION_SECTION.exec(content)?.[0];
  if (!conf) throw new Error('the configuration to restore has no <configuration> section');
  const top = cibRoot(running);
  if (top.name !== 'cib') throw new Error('cibadmin --query printed no <cib>');
  const adminEpoch = (Number.parseInt(top.attrs.admin_epoch ?? '0', 10) || 0) + 1;
  const epoch = (Number.parseInt(top.attrs.epoch ?? '0', 10) || 0) + 1;
  const open = /<cib\b[^>]*>/.exec(running)![0];
  let newOpen = open;
  for (const [k, v] of [
    ['admin_epoch', adminEpoch],
    ['epoch', epoch],
    ['num_updates', 0],
  ] as const) {
    const re = new RegExp(`(\\s)${k}="[^"]*"`);
    newOpen = re.test(newOpen) ? newOpen.replace(re, `$1${k}="${v}"`) : newOpen.replace(/^<cib\b/, `<cib ${k}="${v}"`);
  }
  const xml = running.replace(open, newOpen).replace(CONFIGURATION_SECTION, () => conf);
  return { xml, epoch: `${adminEpoch}.${epoch}.0` };
}

export async function replacePacemakerConfig(run: CommandRunner, args: ActionArgs<'cluster.config-replace'>) {
  const wanted = configurationSha256(cibRoot(args.content));
  if (wanted !== args.sha256)
    throw new Error(`the configuration's SHA-256 is ${wanted}, not the expected ${args.sha256}: refusing to restore it`);
  const runningText = await must(run, 'cibadmin', ['--query'], 60_000);
  const running = cibRoot(runningText);
  if (configurationSha256(running) === wanted) return { replaced: false, epoch: cibEpoch(running), sha256: wanted };

  const { xml } = authoritativeCib(runningText, args.content);
  const file = path.join(tmpdir(), `tandem-cib-${randomUUID()}.xml`);
  await writeFile(file, xml, { mode: 0o600 });
  try {
    await must(run, 'cibadmin', ['--replace', '--xml-file', file], 120_000);
  } finally {
    await rm(file, { force: true });
  }
  const after = cibRoot(await must(run, 'cibadmin', ['--query'], 60_000));
  const sha = configurationSha256(after);
  if (sha !== wanted) throw new Error(`the CIB was replaced but its configuration now hashes to ${sha}, not ${wanted}`);
  return { replaced: true, epoch: cibEpoch(after), sha256: sha };
}

// ---------------------------------------------------------------------------------------------
// cluster.stack-ensure

async function processRunning(name: string): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    // /proc/PID/stat: "pid (comm) state …"; a zombie (Z) has exited, its parent just did not reap it yet.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) (\S)/.exec(stat);
    if (m?.[1] === name && m[2] !== 'Z' && m[2] !== 'X') return true;
  }
  return false;
}

async function stackRunning(run: CommandRunner, systemd: boolean): Promise<{ corosync: boolean; pacemaker: boolean }> {
  if (systemd) {
    const active = async (unit: string) =>
      (await run('systemctl', ['is-active', '--quiet', unit], { timeoutMs: 20_000 })).code === 0;
    return { corosync: await active('corosync'), pacemaker: await active('pacemaker') };
  }
  return { corosync: await processRunning('corosync'), pacemaker: await processRunning('pacemakerd') };
}

export async function ensurePacemakerStack(
  run: CommandRunner,
  args: ActionArgs<'cluster.stack-ensure'>,
  platform: NodeJS.Platform,
): Promise<{ state: 'running' | 'stopped'; changed: boolean }> {
  const deadline = Date.now() + args.timeoutMs;
  const remaining = () => Math.max(1000, deadline - Date.now());
  const systemd = (await detectServiceManager(defaultIO({ platform, run }))) === 'systemd';
  const want = args.state;
  const done = (s: { corosync: boolean; pacemaker: boolean }) =>
    want === 'running' ? s.corosync && s.pacemaker : !s.corosync && !s.pacemaker;
  let now = await stackRunning(run, systemd);
  if (done(now)) return { state: want, changed: false };

  if (systemd) {
    if (want === 'running') await must(run, 'systemctl', ['start', 'corosync', 'pacemaker'], remaining());
    else await must(run, 'systemctl', ['stop', 'pacemaker', 'corosync'], remaining());
  } else if (want === 'running') {
    if (!now.corosync) {
      await must(run, 'corosync', [], remaining());
      // pacemakerd gives up when corosync does not answer yet.
      while ((await run('corosync-cfgtool', ['-s'], { timeoutMs: 10_000 })).code !== 0) {
        if (Date.now() >= deadline) throw new Error(`corosync did not come up within ${args.timeoutMs} ms`);
        await sleep(POLL_MS / 5);
      }
    }
    if (!now.pacemaker) {
      const child = spawn('pacemakerd', [], { detached: true, stdio: 'ignore' });
      child.on('error', () => undefined); // seen as "not running" below
      child.unref();
    }
  } else {
    if (now.pacemaker) {
      const r = await run('pacemakerd', ['--shutdown'], { timeoutMs: remaining() });
      if (r.code !== 0 && (await processRunning('pacemakerd'))) throw failed('pacemakerd --shutdown', r);
      // Pacemaker stops its resources first; corosync goes only after it.
      while (await processRunning('pacemakerd')) {
        if (Date.now() >= deadline) throw new Error(`pacemaker did not stop within ${args.timeoutMs} ms`);
        await sleep(POLL_MS);
      }
    }
    if (await processRunning('corosync')) {
      const r = await run('corosync-cfgtool', ['-H'], { timeoutMs: remaining() });
      if (r.code !== 0 && (await processRunning('corosync'))) throw failed('corosync-cfgtool -H', r);
    }
  }
  for (;;) {
    now = await stackRunning(run, systemd);
    if (done(now)) return { state: want, changed: true };
    if (Date.now() >= deadline) {
      throw new Error(
        `the cluster stack did not become ${want} within ${args.timeoutMs} ms: corosync ${now.corosync ? 'running' : 'stopped'}, pacemaker ${now.pacemaker ? 'running' : 'stopped'}`,
      );
    }
    await sleep(POLL_MS);
  }
}
