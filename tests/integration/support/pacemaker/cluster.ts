// A REAL single-node Pacemaker + Corosync cluster for integration tests (Debian packages pacemaker
// and corosync; needs root). The cluster runs in its own mount, network, UTS and PID namespaces
// (node.sh): corosync on that namespace's loopback, its own /etc/corosync, /var/lib/pacemaker,
// /run and /dev/shm, so nothing on the host is touched, and ending the namespace's first process
// ends every cluster process (and anything else started inside).
//
// Pacemaker's command-line tools talk to the daemons over libqb IPC, which needs the cluster's
// network namespace, so anything that runs crm_* (the agent's facts and cluster actions) must run
// inside: `cluster.run` for one-shot commands, `cluster.spawn` for long-running processes.
//
// Running a real agent inside the cluster (it must reach the test's gateway on the host):
//   const cluster = await startPacemakerCluster({ resources: [{ id: 'db-vip' }] });
//   const port = await cluster.forward(gateway.port);       // inside: 127.0.0.1:<port> → host 127.0.0.1:<port>
//   // enrol on the host as usual with the gateway URL http://127.0.0.1:<gateway.port> (the same
//   // port number works inside, thanks to the forwarder), then:
//   const agent = cluster.spawn(process.execPath, [agentBundle, 'run', '--config', configPath], { env: {...} });
//   ... agent.stop() (kills the process inside the namespace) ... finally cluster.stop().
// (Tried: an agent enrolled with agentCli on the host, run this way, came online on the gateway
// and carried out cluster.resource-ensure sent on the bus.) Agent actions without a gateway:
// support/pacemaker/action.ts serves them inside the namespaces (agent-cluster-pacemaker.test.ts).
// The forwarder: a small node process inside the namespace listens on 127.0.0.1:<port> and relays
// each connection over a filesystem unix socket (those cross network namespaces) to a relay in the
// test process, which connects to 127.0.0.1:<port> on the host. The host's /tmp and the repository
// are visible inside (only /etc/corosync, /var/lib/{pacemaker,corosync}, /var/log/pacemaker, /run
// and /dev/shm are private), so an agent's config directory under tmpdir() works as is.
import { execFile, spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { child, descendants, parseXml, type XmlElement } from '../../../../apps/agent/src/facts/xml.ts';

const execFileP = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const support = import.meta.dirname;

export const PACEMAKER_NODE_NAME = 'tandem-pcmk1'; // node.sh sets this host name in the namespace

export interface ClusterResourceSpec {
  id: string;
  /** Default ocf:pacemaker:Dummy. */
  type?: string;
  /** Pacemaker's target-role meta attribute (e.g. Stopped), unset by default. */
  targetRole?: string;
  /** Instance attributes (e.g. { fake: 'a' } for Dummy). */
  params?: Record<string, string>;
}

export interface PacemakerClusterOptions {
  clusterName?: string;
  resources?: ClusterResourceSpec[];
  /** Groups of resources already listed in `resources` (they move into the group's element). */
  groups?: { id: string; resources: string[] }[];
  /** Raw constraint elements (XML) for the CIB's <constraints>. */
  constraintsXml?: string;
  /** The namespace ends by itself after this long (a safety net should the test process die). */
  lifetimeSeconds?: number;
  /** How long to wait for the cluster and its resources. */
  startTimeoutMs?: number;
}

export interface InClusterProcess {
  child: ChildProcess;
  output: () => string;
  /** Host PID of the process inside (nsenter forks it), null while not known yet. */
  innerPid: () => number | null;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export interface PacemakerCluster {
  nodeName: string;
  clusterName: string;
  /** Host PID of the namespaces' first process. */
  nsPid: number;
  /** The temporary directory holding the cluster's state (bind-mounted inside). */
  stateDir: string;
  run: (cmd: string, args: string[], timeoutMs?: number) => Promise<{ stdout: string; stderr: string }>;
  spawn: (cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: boolean }) => InClusterProcess;
  /** Makes 127.0.0.1:<hostPort> inside the namespace reach 127.0.0.1:<hostPort> on the host. */
  forward: (hostPort: number) => Promise<number>;
  crmMon: () => Promise<XmlElement>;
  /** Resource id → crm_mon role (Started, Stopped…). */
  resourceRoles: () => Promise<Record<string, string | undefined>>;
  waitFor: (what: string, ok: () => Promise<boolean>, timeoutMs?: number) => Promise<void>;
  diagnostics: () => string;
  stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function corosyncConf(clusterName: string): string {
  // Short token and consensus timeouts: a single node forms its membership at once.
  return `totem {
  version: 2
  cluster_name: ${clusterName}
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 1000
  consensus: 1200
  join: 50
}
nodelist {
  node {
    name: ${PACEMAKER_NODE_NAME}
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
}

function primitiveXml(r: ClusterResourceSpec, indent: string): string {
  const [cls, provider, type] = (r.type ?? 'ocf:pacemaker:Dummy').split(':');
  const params = Object.entries(r.params ?? {});
  const inner = [
    params.length > 0
      ? `${indent}  <instance_attributes id="${r.id}-ia">\n${params
          .map(([k, v]) => `${indent}    <nvpair id="${r.id}-ia-${k}" name="${escapeXml(k)}" value="${escapeXml(v)}"/>`)
          .join('\n')}\n${indent}  </instance_attributes>`
      : '',
    r.targetRole
      ? `${indent}  <meta_attributes id="${r.id}-meta">\n${indent}    <nvpair id="${r.id}-meta-target-role" name="target-role" value="${r.targetRole}"/>\n${indent}  </meta_attributes>`
      : '',
  ].filter(Boolean);
  const typeAttrs = type ? `class="${cls}" provider="${provider}" type="${type}"` : `class="${cls}" type="${provider}"`;
  if (inner.length === 0) return `${indent}<primitive id="${r.id}" ${typeAttrs}/>`;
  return `${indent}<primitive id="${r.id}" ${typeAttrs}>\n${inner.join('\n')}\n${indent}</primitive>`;
}

// The initial CIB: no fencing, quorum ignored, dc-deadtime 2 s (the default 20 s would be the
// whole start-up time).
function cibXml(
  opts: Required<Pick<PacemakerClusterOptions, 'clusterName' | 'resources' | 'groups' | 'constraintsXml'>>,
): string {
  const grouped = new Set(opts.groups.flatMap((g) => g.resources));
  const byId = new Map(opts.resources.map((r) => [r.id, r]));
  const lines = [
    ...opts.resources.filter((r) => !grouped.has(r.id)).map((r) => primitiveXml(r, '      ')),
    ...opts.groups.map(
      (g) =>
        `      <group id="${g.id}">\n${g.resources.map((id) => primitiveXml(byId.get(id) ?? { id }, '        ')).join('\n')}\n      </group>`,
    ),
  ];
  return `<cib crm_feature_set="3.0.0" validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="o-quorum" name="no-quorum-policy" value="ignore"/>
        <nvpair id="o-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="o-name" name="cluster-name" value="${opts.clusterName}"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
${lines.join('\n')}
    </resources>
    <constraints>${opts.constraintsXml}</constraints>
  </configuration>
  <status/>
</cib>
`;
}

// Inside the namespace: listen on 127.0.0.1:PORT, relay each connection to the unix socket SOCK.
const FORWARDER = `
const net = require('node:net');
const [port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

export async function startPacemakerCluster(opts: PacemakerClusterOptions = {}): Promise<PacemakerCluster> {
  const clusterName = opts.clusterName ?? 'tandem-live';
  const resources = opts.resources ?? [];
  const state = mkdtempSync(path.join(tmpdir(), 'tandem-pcmk-'));
  mkdirSync(path.join(state, 'etc-corosync'));
  mkdirSync(path.join(state, 'lib-pacemaker/cib'), { recursive: true });
  writeFileSync(path.join(state, 'etc-corosync/corosync.conf'), corosyncConf(clusterName));
  writeFileSync(
    path.join(state, 'lib-pacemaker/cib/cib.xml'),
    cibXml({ clusterName, resources, groups: opts.groups ?? [], constraintsXml: opts.constraintsXml ?? '' }),
    { mode: 0o600 },
  );
  const out = openSync(path.join(state, 'namespace.out'), 'w');
  // --kill-child: should unshare die, the namespace goes with it. node.sh also ends when its stdin
  // (this process) closes, or after the lifetime at the latest.
  const holder = spawnProcess(
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
      String(opts.lifetimeSeconds ?? 180),
    ],
    { stdio: ['pipe', out, out] },
  );
  closeSync(out);
  holder.on('error', () => {}); // reported through exitCode below
  let nsPid = 0;
  const relays: net.Server[] = [];
  const inner: InClusterProcess[] = [];

  const diagnostics = () => {
    const read = (f: string) => (existsSync(path.join(state, f)) ? readFileSync(path.join(state, f), 'utf8').slice(-3000) : '');
    return ['namespace.out', 'corosync.out', 'pacemakerd.out', 'log-pacemaker/pacemaker.log']
      .map((f) => `--- ${f}\n${read(f)}`)
      .join('\n');
  };

  const waitFor = async (what: string, ok: () => Promise<boolean>, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      if (holder.exitCode !== null) throw new Error(`the cluster namespace ended (exit ${holder.exitCode})\n${diagnostics()}`);
      const done = await ok().catch((err: unknown) => {
        lastError = err instanceof Error ? err.message : 'error';
        return false;
      });
      if (done) return;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what} (last error: ${lastError || 'none'})\n${diagnostics()}`);
      await sleep(250);
    }
  };

  const run = (cmd: string, args: string[], timeoutMs = 20_000) =>
    execFileP('nsenter', ['-t', String(nsPid), '-a', `--wd=${repoRoot}`, '--', cmd, ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
    });

  const spawn = (
    cmd: string,
    args: string[],
    o: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: boolean } = {},
  ): InClusterProcess => {
    const c = spawnProcess('nsenter', ['-t', String(nsPid), '-a', `--wd=${o.cwd ?? repoRoot}`, '--', cmd, ...args], {
      env: o.env ?? process.env,
      stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let output = '';
    c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const innerPid = () => {
      try {
        const kids = readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'utf8').trim().split(/\s+/);
        return Number(kids[0]) || null;
      } catch {
        return null;
      }
    };
    const handle: InClusterProcess = {
      child: c,
      output: () => output,
      innerPid,
      stop: (signal = 'SIGTERM') =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const kill = (s: NodeJS.Signals) => {
            // nsenter forked the process into the PID namespace; signal it directly.
            const pid = innerPid();
            try {
              if (pid) process.kill(pid, s);
              else c.kill(s);
            } catch {
              /* already gone */
            }
          };
          const t = setTimeout(() => kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          kill(signal);
        }),
    };
    inner.push(handle);
    return handle;
  };

  const forward = async (hostPort: number): Promise<number> => {
    const sock = path.join(state, `fwd-${hostPort}.sock`);
    const relay = net.createServer((c) => {
      const h = net.connect(hostPort, '127.0.0.1');
      c.pipe(h);
      h.pipe(c);
      c.on('error', () => h.destroy());
      h.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.listen(sock, () => resolve());
    });
    relays.push(relay);
    const p = spawn(process.execPath, ['-e', FORWARDER, String(hostPort), sock]);
    await waitFor(
      `the forwarder for port ${hostPort}`,
      () => {
        if (p.child.exitCode !== null) throw new Error(`forwarder exited: ${p.output()}`);
        return Promise.resolve(p.output().includes('listening'));
      },
      10_000,
    );
    return hostPort;
  };

  const crmMon = async () => {
    const { stdout } = await run('crm_mon', ['-1', '--output-as=xml'], 10_000);
    return parseXml(stdout).children[0]!;
  };
  const resourceRoles = async () => {
    const top = await crmMon();
    const entries = descendants(child(top, 'resources'), 'resource').map((r): [string, string | undefined] => [
      r.attrs.id ?? '',
      r.attrs.role,
    ]);
    return Object.fromEntries(entries);
  };

  const stop = async () => {
    for (const p of inner) await p.stop('SIGKILL').catch(() => {});
    for (const r of relays) r.close();
    if (holder.exitCode === null && holder.signalCode === null) {
      const exited = new Promise((r) => holder.once('exit', r));
      holder.stdin?.end(); // node.sh returns; the kernel kills every process in its PID namespace
      await Promise.race([exited, sleep(5_000)]);
      if (holder.exitCode === null && holder.signalCode === null) {
        if (nsPid > 0) process.kill(nsPid, 'SIGKILL');
        holder.kill('SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
    }
    rmSync(state, { recursive: true, force: true });
  };

  try {
    const timeoutMs = opts.startTimeoutMs ?? 35_000;
    await waitFor(
      'the cluster namespace',
      () => {
        if (!existsSync(path.join(state, 'namespace-ready'))) return Promise.resolve(false);
        const kids = readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim().split(/\s+/);
        nsPid = Number(kids[0]);
        return Promise.resolve(nsPid > 0);
      },
      timeoutMs,
    );
    // Every resource settled: Started, or Stopped where its target-role says so.
    await waitFor(
      'the resources to settle',
      async () => {
        const roles = await resourceRoles();
        return resources.every((r) => roles[r.id] === (r.targetRole === 'Stopped' ? 'Stopped' : 'Started'));
      },
      timeoutMs,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodeName: PACEMAKER_NODE_NAME,
    clusterName,
    nsPid,
    stateDir: state,
    run,
    spawn,
    forward,
    crmMon,
    resourceRoles,
    waitFor,
    diagnostics,
    stop,
  };
}
