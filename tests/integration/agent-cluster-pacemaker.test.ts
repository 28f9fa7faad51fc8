// Agent cluster actions against a REAL single-node Pacemaker + Corosync cluster in private
// namespaces (support/pacemaker/cluster.ts). Each action runs inside the namespaces through the
// agent's runAction (support/pacemaker/action.ts), with the real crm_resource, crm_mon and cibadmin.
import path from 'node:path';
import { actionResults } from '@tandem/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { child, children, parseXml } from '../../apps/agent/src/facts/xml.ts';
import { startPacemakerCluster, type InClusterProcess, type PacemakerCluster } from './support/pacemaker/cluster.ts';

const support = path.join(import.meta.dirname, 'support/pacemaker');
let cluster: PacemakerCluster;

let server: InClusterProcess;
let nextId = 1;

/** One action through the in-cluster action server (support/pacemaker/action.ts). */
async function action<A extends keyof typeof actionResults>(name: A, args: Record<string, unknown>) {
  const id = nextId++;
  server.child.stdin!.write(`${JSON.stringify({ id, action: name, args })}\n`);
  let answer: { id: number; ok?: unknown; error?: string } | undefined;
  await cluster.waitFor(
    `the answer to ${name}`,
    () => {
      if (server.child.exitCode !== null) throw new Error(`the action server exited: ${server.output()}`);
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{"id":'));
      answer = lines.map((l) => JSON.parse(l) as typeof answer).find((a) => a!.id === id);
      return Promise.resolve(answer !== undefined);
    },
    120_000,
  );
  if (answer!.error !== undefined) throw new Error(answer!.error);
  return actionResults[name].parse(answer!.ok) as ReturnType<(typeof actionResults)[A]['parse']>;
}

async function constraintIds(): Promise<string[]> {
  const { stdout } = await cluster.run('cibadmin', ['--query', '--scope', 'constraints']);
  return parseXml(stdout).children[0]!.children.map((c) => c.attrs.id ?? '');
}

async function parameter(resource: string, name: string): Promise<string> {
  const { stdout } = await cluster.run('crm_resource', ['--resource', resource, '--get-parameter', name]);
  return stdout.trim();
}

beforeAll(async () => {
  cluster = await startPacemakerCluster({
    clusterName: 'tandem-actions',
    resources: [{ id: 'app-db', targetRole: 'Stopped', params: { fake: 'original' } }, { id: 'web-ip' }, { id: 'web-app' }],
    groups: [{ id: 'web', resources: ['web-ip', 'web-app'] }],
    constraintsXml: '<rsc_location id="loc-web" rsc="web" node="tandem-pcmk1" score="100"/>',
  });
  server = cluster.spawn(process.execPath, ['--import', 'tsx', path.join(support, 'action.ts')], { stdin: true });
  await cluster.waitFor('the action server', () => Promise.resolve(server.output().includes('{"ready":true}')), 30_000);
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 20_000);

describe('cluster actions on Pacemaker (real Pacemaker + Corosync, single node in private namespaces)', () => {
  it('brings a Stopped resource online on the node and offline again, idempotently, leaving no constraints behind', async () => {
    const node = cluster.nodeName;
    const before = await constraintIds();
    const args = { stack: 'pacemaker', resource: 'app-db', kind: 'resource', node, timeoutMs: 30_000 };

    expect(await action('cluster.resource-ensure', { ...args, state: 'online' })).toEqual({
      state: 'online',
      node,
      changed: true,
    });
    expect((await cluster.resourceRoles())['app-db']).toBe('Started');
    expect(await constraintIds()).toEqual(before); // the move's cli-prefer constraint is gone
    expect(await action('cluster.resource-ensure', { ...args, state: 'online' })).toEqual({
      state: 'online',
      node,
      changed: false,
    });

    expect(await action('cluster.resource-ensure', { ...args, state: 'offline' })).toEqual({
      state: 'offline',
      node: null,
      changed: true,
    });
    expect((await cluster.resourceRoles())['app-db']).toBe('Stopped');
    expect(await action('cluster.resource-ensure', { ...args, state: 'offline' })).toEqual({
      state: 'offline',
      node: null,
      changed: false,
    });
    expect(await constraintIds()).toEqual(before);
  }, 90_000);

  it('takes a group offline and online (the cluster picks the node), refuses wrong kinds and unknown nodes, clears a stray move preference', async () => {
    const args = { stack: 'pacemaker', resource: 'web', kind: 'group', node: null, timeoutMs: 30_000 };
    expect(await action('cluster.resource-ensure', { ...args, state: 'offline' })).toEqual({
      state: 'offline',
      node: null,
      changed: true,
    });
    const roles = await cluster.resourceRoles();
    expect([roles['web-ip'], roles['web-app']]).toEqual(['Stopped', 'Stopped']);
    expect(await action('cluster.resource-ensure', { ...args, state: 'online' })).toEqual({
      state: 'online',
      node: cluster.nodeName,
      changed: true,
    });
    expect(await action('cluster.resource-ensure', { ...args, state: 'online' })).toEqual({
      state: 'online',
      node: cluster.nodeName,
      changed: false,
    });

    await expect(action('cluster.resource-ensure', { ...args, kind: 'resource', state: 'online' })).rejects.toThrow(/is a group/);
    await expect(action('cluster.resource-ensure', { ...args, resource: 'nope', state: 'online' })).rejects.toThrow(
      /not configured/,
    );
    await expect(action('cluster.resource-ensure', { ...args, node: 'tandem-elsewhere', state: 'online' })).rejects.toThrow(
      /Node 'tandem-elsewhere' not found/,
    );
    // A move preference left behind (an interrupted earlier call, an operator's move) is cleared by the next call on a node.
    await cluster.run('cibadmin', [
      '--create',
      '--scope',
      'constraints',
      '--xml-text',
      `<rsc_location id="cli-prefer-web" rsc="web" node="${cluster.nodeName}" score="INFINITY"/>`,
    ]);
    expect(await constraintIds()).toEqual(['loc-web', 'cli-prefer-web']);
    expect(await action('cluster.resource-ensure', { ...args, node: cluster.nodeName, state: 'online' })).toEqual({
      state: 'online',
      node: cluster.nodeName,
      changed: true,
    });
    expect(await constraintIds()).toEqual(['loc-web']);
  }, 90_000);

  it('reads the configuration, and replacing it restores a changed parameter with a higher epoch', async () => {
    const snapshot = await action('cluster.config-read', { stack: 'pacemaker' });
    expect(snapshot.format).toBe('pacemaker-cib');
    const top = parseXml(snapshot.content).children[0]!;
    expect(top.name).toBe('cib');
    expect(children(child(top, 'status'), 'node_state')).toEqual([]); // status is not part of it
    expect(snapshot.epoch).toMatch(/^\d+\.\d+\.\d+$/);
    // Status churn (a monitor result, a re-read) does not change the hash.
    expect((await action('cluster.config-read', { stack: 'pacemaker' })).sha256).toBe(snapshot.sha256);

    await cluster.run('crm_resource', ['--resource', 'app-db', '--set-parameter', 'fake', '--parameter-value', 'changed']);
    expect(await parameter('app-db', 'fake')).toBe('changed');
    const changed = await action('cluster.config-read', { stack: 'pacemaker' });
    expect(changed.sha256).not.toBe(snapshot.sha256);

    const restored = await action('cluster.config-replace', {
      stack: 'pacemaker',
      content: snapshot.content,
      sha256: snapshot.sha256,
    });
    expect(restored).toMatchObject({ replaced: true, sha256: snapshot.sha256 });
    expect(await parameter('app-db', 'fake')).toBe('original');
    const version = (e: string | null) => e!.split('.').map(Number);
    const [adminBefore] = version(changed.epoch);
    const [adminAfter] = version(restored.epoch);
    expect(adminAfter).toBeGreaterThan(adminBefore!); // newest wherever nodes compare versions

    expect(
      await action('cluster.config-replace', { stack: 'pacemaker', content: snapshot.content, sha256: snapshot.sha256 }),
    ).toEqual({
      replaced: false,
      epoch: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown,
      sha256: snapshot.sha256,
    });
    await expect(
      action('cluster.config-replace', { stack: 'pacemaker', content: snapshot.content, sha256: 'a'.repeat(64) }),
    ).rejects.toThrow(/refusing to restore/);
  }, 90_000);

  it('stops and starts the cluster stack on the node (no systemd here: the daemons themselves)', async () => {
    expect(await action('cluster.stack-ensure', { stack: 'pacemaker', state: 'running', timeoutMs: 30_000 })).toEqual({
      state: 'running',
      changed: false,
    });
    expect(await action('cluster.stack-ensure', { stack: 'pacemaker', state: 'stopped', timeoutMs: 60_000 })).toEqual({
      state: 'stopped',
      changed: true,
    });
    await expect(cluster.run('crm_mon', ['-1', '--output-as=xml'], 10_000)).rejects.toThrow();
    expect(await action('cluster.stack-ensure', { stack: 'pacemaker', state: 'stopped', timeoutMs: 30_000 })).toEqual({
      state: 'stopped',
      changed: false,
    });
    expect(await action('cluster.stack-ensure', { stack: 'pacemaker', state: 'running', timeoutMs: 60_000 })).toEqual({
      state: 'running',
      changed: true,
    });
    await cluster.waitFor('the group to run again', async () => (await cluster.resourceRoles())['web-ip'] === 'Started', 40_000);
  }, 90_000);
});
