// Pacemaker cluster facts from a REAL single-node Pacemaker + Corosync cluster (Debian packages
// pacemaker and corosync; needs root). The cluster runs in its own mount, network,
// UTS and PID namespaces (support/pacemaker/node.sh): corosync on that namespace's loopback, its
// own /etc/corosync, /var/lib/pacemaker, /run and /dev/shm, so nothing on the host is touched, and
// ending the namespace's first process ends every cluster process. The agent's collectFacts runs
// inside those namespaces (support/pacemaker/collect.ts), with the real crm_mon and corosync.conf.
// The recorded-output cases are in agent-facts-cluster.test.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { child, children, descendants, parseXml } from '../../apps/agent/src/facts/xml.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const support = path.join(import.meta.dirname, 'support/pacemaker');
const CLUSTER_NAME = 'tandem-live';
const NODE_NAME = 'tandem-pcmk1'; // node.sh sets this host name in the namespace
const RESOURCES = ['tandem-dummy-a', 'tandem-dummy-b'];

const state = mkdtempSync(path.join(tmpdir(), 'tandem-pcmk-'));
let holder: ChildProcess | undefined; // `unshare`, parent of the namespace's first process
let nsPid = 0; // host PID of node.sh, PID 1 of the cluster's namespaces

// Short token and consensus timeouts: a single node forms its membership at once.
const corosyncConf = `totem {
  version: 2
  cluster_name: ${CLUSTER_NAME}
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 1000
  consensus: 1200
  join: 50
}
nodelist {
  node {
    name: ${NODE_NAME}
    nodeid: 1
    ring0_addr: 127.0.0.1
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_stderr: yes
  to_logfile: no
  to_syslog: no
}
`;

// The initial CIB: no fencing, quorum ignored, dc-deadtime 2 s (the default 20 s would be the
// whole start-up time), and two Dummy resources.
const cibXml = `<cib crm_feature_set="3.0.0" validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="o-quorum" name="no-quorum-policy" value="ignore"/>
        <nvpair id="o-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="o-name" name="cluster-name" value="${CLUSTER_NAME}"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
${RESOURCES.map((id) => `      <primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy"/>`).join('\n')}
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command inside the cluster's namespaces. */
function inCluster(cmd: string, args: string[], timeout = 20_000) {
  return run('nsenter', ['-t', String(nsPid), '-a', `--wd=${repoRoot}`, '--', cmd, ...args], {
    encoding: 'utf8',
    timeout,
  });
}

function diagnostics(): string {
  const read = (f: string) => (existsSync(path.join(state, f)) ? readFileSync(path.join(state, f), 'utf8').slice(-3000) : '');
  return ['namespace.out', 'corosync.out', 'pacemakerd.out', 'log-pacemaker/pacemaker.log']
    .map((f) => `--- ${f}\n${read(f)}`)
    .join('\n');
}

async function crmMonXml() {
  const { stdout } = await inCluster('crm_mon', ['-1', '--output-as=xml'], 10_000);
  return parseXml(stdout).children[0]!;
}

async function waitFor(what: string, ok: () => Promise<boolean>, deadline: number) {
  let lastError = '';
  for (;;) {
    if (holder?.exitCode !== null) throw new Error(`the cluster namespace ended (exit ${holder?.exitCode})\n${diagnostics()}`);
    const done = await ok().catch((err: unknown) => {
      lastError = err instanceof Error ? err.message : 'error';
      return false;
    });
    if (done) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last error: ${lastError || 'none'})\n${diagnostics()}`);
    await sleep(250);
  }
}

async function resourceRoles(): Promise<Record<string, string | undefined>> {
  const top = await crmMonXml();
  const entries = descendants(child(top, 'resources'), 'resource').map((r): [string, string | undefined] => [
    r.attrs.id ?? '',
    r.attrs.role,
  ]);
  return Object.fromEntries(entries);
}

async function collectInCluster() {
  const { stdout } = await inCluster(process.execPath, ['--import', 'tsx', path.join(support, 'collect.ts')], 30_000);
  const section: unknown = JSON.parse(stdout);
  return section;
}

beforeAll(async () => {
  mkdirSync(path.join(state, 'etc-corosync'));
  mkdirSync(path.join(state, 'lib-pacemaker/cib'), { recursive: true });
  writeFileSync(path.join(state, 'etc-corosync/corosync.conf'), corosyncConf);
  writeFileSync(path.join(state, 'lib-pacemaker/cib/cib.xml'), cibXml, { mode: 0o600 });
  const out = openSync(path.join(state, 'namespace.out'), 'w');
  // --kill-child: should unshare die, the namespace goes with it. node.sh also ends when its stdin
  // (this process) closes, or after 120 s at the latest.
  holder = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--net',
      '--uts',
      '--pid',
      '--fork',
      '--mount-proc',
      '--kill-child',
      path.join(support, 'node.sh'),
      state,
      '120',
    ],
    { stdio: ['pipe', out, out] },
  );
  closeSync(out);
  holder.on('error', () => {}); // reported through exitCode below
  const deadline = Date.now() + 35_000;
  await waitFor(
    'the cluster namespace',
    () => {
      if (!existsSync(path.join(state, 'namespace-ready'))) return Promise.resolve(false);
      const kids = readFileSync(`/proc/${holder!.pid}/task/${holder!.pid}/children`, 'utf8').trim().split(/\s+/);
      nsPid = Number(kids[0]);
      return Promise.resolve(nsPid > 0);
    },
    deadline,
  );
  await waitFor(
    'the Dummy resources to start',
    async () => {
      const roles = await resourceRoles();
      return RESOURCES.every((id) => roles[id] === 'Started');
    },
    deadline,
  );
}, 45_000);

afterAll(async () => {
  if (holder && holder.exitCode === null && holder.signalCode === null) {
    const exited = new Promise((r) => holder!.once('exit', r));
    holder.stdin?.end(); // node.sh returns; the kernel kills every process in its PID namespace
    await Promise.race([exited, sleep(5_000)]);
    if (holder.exitCode === null && holder.signalCode === null) {
      if (nsPid > 0) process.kill(nsPid, 'SIGKILL');
      holder.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
  }
  rmSync(state, { recursive: true, force: true });
}, 20_000);

describe('Pacemaker cluster facts (real Pacemaker + Corosync, single node in private namespaces)', () => {
  it('reports the stack, the corosync.conf cluster name, quorum, the node and the Started Dummy resources', async () => {
    const top = await crmMonXml();
    const dc = child(child(top, 'summary'), 'current_dc');
    const quorate = dc?.attrs.with_quorum === 'true'; // as crm_mon itself reports it
    expect(dc?.attrs.present).toBe('true');

    expect(await collectInCluster()).toEqual({
      status: 'ok',
      data: {
        stack: 'pacemaker',
        name: CLUSTER_NAME,
        quorate,
        nodes: [{ name: NODE_NAME, online: true }],
        resources: RESOURCES.map((id) => ({ id, type: 'ocf:pacemaker:Dummy', role: 'Started', node: NODE_NAME })),
      },
    });
    expect(quorate).toBe(true); // one node of one expected vote
  });

  it('reports a resource stopped by its target-role as Stopped on no node', async () => {
    const [, stopped] = RESOURCES;
    await inCluster('crm_resource', [
      '--resource',
      stopped!,
      '--meta',
      '--set-parameter',
      'target-role',
      '--parameter-value',
      'Stopped',
    ]);
    await waitFor('the resource to stop', async () => (await resourceRoles())[stopped!] === 'Stopped', Date.now() + 15_000);

    const facts = (await collectInCluster()) as { status: string; data: { resources: unknown[]; nodes: unknown[] } };
    expect(facts.status).toBe('ok');
    expect(facts.data.nodes).toEqual([{ name: NODE_NAME, online: true }]);
    expect(facts.data.resources).toEqual([
      { id: RESOURCES[0], type: 'ocf:pacemaker:Dummy', role: 'Started', node: NODE_NAME },
      { id: stopped, type: 'ocf:pacemaker:Dummy', role: 'Stopped', node: null },
    ]);
    // crm_mon lists the node a resource runs on; a stopped one has none.
    const top = await crmMonXml();
    const entry = descendants(child(top, 'resources'), 'resource').find((r) => r.attrs.id === stopped);
    expect(children(entry, 'node')).toEqual([]);
  });
});
