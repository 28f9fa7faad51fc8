import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';
import { compareVersions, where } from './core-util.ts';

// The `agent` family (catalogue §2.1, §4.1): agent presence, version, modules and identity.

/** Certificate warning window (fixed, §1.10). */
const CERT_WARN_MS = 30 * 86_400_000;

const LINUX_CAPS = ['CAP_DAC_READ_SEARCH', 'CAP_CHOWN', 'CAP_FOWNER'];
const WINDOWS_PRIVILEGES = ['SeBackupPrivilege', 'SeRestorePrivilege'];

const node = (ctx: CheckContext) => ctx.node!;
const nodeSide = (ctx: CheckContext) => ctx.side as 'source' | 'target';

/** This node runs directory or Windows DNS actions in the runbooks. */
function actsOnDirectoryOrWindowsDns(snap: FactsSnapshot, side: 'source' | 'target', n: NodeFacts): boolean {
  const f = snap.pair.failover;
  if (!f.enabled) return false;
  if (f.mode === 'identity') return true;
  if (f.mode !== 'dns' || snap.pair.dns.provider !== 'windows') return false;
  const executor = snap.pair.dns.executorServerId;
  return executor ? executor === n.serverId : side === 'target';
}

/** Modules the pair needs on every node, limited to those the release ships (X.modulesRequired). */
function neededModules(snap: FactsSnapshot): string[] {
  const p = snap.pair;
  const want = new Set<string>(['core', p.app]);
  if (p.failover.enabled && p.failover.mode === 'dns') want.add('dns');
  if (p.failover.enabled && (p.failover.mode === 'identity' || p.identity.hostSpn || p.identity.takeName)) want.add('directory');
  if (p.credentials.some((c) => c.credentialId && c.purpose !== 'dns' && c.purpose !== 'directory')) want.add('secrets');
  return [...want].filter((m) => m in snap.reference.modulesRequired);
}

/** A load error naming a missing OS library (manual: the agent cannot install OS packages). */
function missingLibrary(error: string | null): string | null {
  if (!error) return null;
  const m = /([\w.+-]+\.(?:so(?:\.[\d.]+)?|dll|dylib))\b/i.exec(error) ?? /(?:library|dependency)\s+['"]?([\w.+-]+)['"]?\s+(?:not found|is missing|missing)/i.exec(error);
  return m ? m[1]! : null;
}

const upgradeAction = (side: 'source' | 'target', hostname: string, from: string | null, to: string) =>
  ({ action: 'agent.upgrade', node: side, version: to, description: `Upgrade the agent on ${hostname} to ${to}`, before: from, after: to }) as const;

export const agentChecks: CheckDef[] = [
  {
    id: 'agent.unreachable',
    family: 'agent',
    title: 'Agent unreachable',
    detects: 'The node has no enrolled agent, its agent missed three heartbeats in a row, or it did not answer the facts request of this run within 60 s. Every other check of that node shows unknown until it is back.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.agent', 'X'],
    gate: true,
    evaluate: (ctx) => {
      const side = nodeSide(ctx);
      const n = ctx.node;
      const g = ctx.snap.gatherers[side];
      if (!n) return [{ subject: `node=${side}`, message: `The ${side} agent could not be asked for facts: ${g?.error ?? 'no agent is enrolled for it'}.`, evidence: { side, error: g?.error ?? null } }];
      const a = n.agent;
      const subject = `node=${n.hostname}`;
      if (!a) return [{ subject, message: `The agent state of ${where(ctx)} is unknown: ${n.failures.agent ?? 'not collected'}.`, evidence: { error: n.failures.agent ?? null } }];
      const silentMs = a.lastHeartbeatAt === null ? null : ctx.snap.now - a.lastHeartbeatAt;
      const reasons: string[] = [];
      if (!a.enrolled) reasons.push('no agent is enrolled');
      else {
        // The gateway marks an agent offline once it misses its heartbeats; the stored last-seen
        // time is written in batches, so its age alone does not mean the agent is gone.
        if (!a.online) reasons.push(silentMs === null ? 'it never sent a heartbeat' : `it is offline (last heartbeat ${Math.round(silentMs / 1000)} s ago)`);
        if (!a.answered) reasons.push('it did not answer the facts request within 60 s');
      }
      if (!reasons.length) return [];
      return [{ subject, message: `The agent on ${where(ctx)} is unreachable: ${reasons.join('; ')}.`, evidence: { enrolled: a.enrolled, online: a.online, lastHeartbeatAt: a.lastHeartbeatAt, answered: a.answered } }];
    },
    fix: {
      kind: 'manual',
      guidance:
        'Check that the host is up and the **Tandem agent service** is running on it. The agent connects out over HTTPS, so confirm it can reach the control plane (or the configured proxy). If its certificate has expired, re-enrol the node with the install command from the server page.',
    },
    legacy: ['EX-13', 'EX-14', 'SQL-09', 'SQL-10', 'Replication service installed and running on both servers'],
  },
  {
    id: 'agent.insufficient-privilege',
    family: 'agent',
    title: 'Agent lacks rights',
    detects: 'The identity the agent runs as lacks a right the pair needs: reading and writing any file while keeping owners and ACLs (backup/restore privileges on Windows; CAP_DAC_READ_SEARCH, CAP_CHOWN and CAP_FOWNER on Linux), or it is a machine-local Windows user on a node whose runbooks change the directory or Windows DNS.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.agent.account', 'N.os', 'P'],
    evaluate: (ctx) => {
      const n = node(ctx);
      const acct = n.account!;
      const windows = n.os!.family === 'windows';
      const have = new Set(acct.privileges.map((p) => p.toLowerCase()));
      const required = windows ? (acct.kind === 'system' ? [] : WINDOWS_PRIVILEGES) : LINUX_CAPS;
      // CAP_DAC_OVERRIDE bypasses every permission check, so it covers CAP_DAC_READ_SEARCH.
      const missing = required.filter((r) => !have.has(r.toLowerCase()) && !(r === 'CAP_DAC_READ_SEARCH' && have.has('cap_dac_override')));
      const localForDirectory = windows && acct.kind === 'local' && actsOnDirectoryOrWindowsDns(ctx.snap, nodeSide(ctx), n);
      if (!missing.length && !localForDirectory) return [];
      const parts = [missing.length ? `lacks ${missing.join(', ')}` : null, localForDirectory ? 'is a machine-local user, but this node changes the directory or Windows DNS in the runbooks' : null].filter(Boolean);
      return [{ subject: `account=${acct.name}`, message: `The agent account ${acct.name} on ${where(ctx)} ${parts.join(' and ')}.`, evidence: { kind: acct.kind, missing, localForDirectory } }];
    },
    fix: {
      kind: 'manual',
      guidance:
        'Run the agent as **LocalSystem** on Windows, or as **root** or the packaged service user with the documented capabilities (CAP_DAC_READ_SEARCH, CAP_CHOWN, CAP_FOWNER) on Linux. On nodes that change the directory or Windows DNS, use LocalSystem (it acts as the computer account) or a domain account, never a machine-local one.',
    },
    legacy: ['SQL-15', 'Login must belong to the replication admin group'],
  },
  {
    id: 'agent.version-unsupported',
    family: 'agent',
    title: 'Agent version unsupported',
    detects: 'The agent release is older than the minimum the control plane supports, or the agent reported no readable version.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.agent.version', 'X'],
    evaluate: (ctx) => {
      const n = node(ctx);
      const version = n.agent!.version;
      const min = ctx.snap.reference.agent.minVersion;
      if (version !== null && compareVersions(version, min) >= 0) return [];
      return [{ subject: `node=${n.hostname}`, message: version === null ? `The agent on ${where(ctx)} reported no version.` : `The agent on ${where(ctx)} runs ${version}; the oldest supported release is ${min}.`, evidence: { version, minVersion: min } }];
    },
    fix: {
      kind: 'conditional',
      phase: 2,
      blockedWhileProtected: false,
      decide: (ctx) => {
        const n = node(ctx);
        const version = n.agent!.version;
        const ref = ctx.snap.reference.agent;
        if (version === null || compareVersions(version, ref.selfUpdateFloor) < 0) {
          return { guidance: `This agent is too old to update itself (self-update needs ${ref.selfUpdateFloor} or later). Reinstall it on ${n.hostname} with the install command from the server page; the node keeps its enrolment.` };
        }
        return { plan: [upgradeAction(nodeSide(ctx), n.hostname, version, ref.channelVersion)] };
      },
    },
    legacy: ['EX-01', 'EX-03', 'SQL-01', 'SQL-02'],
  },
  {
    id: 'agent.version-incompatible',
    family: 'agent',
    title: 'Agents speak different protocol versions',
    detects: 'The source and target agents speak different major versions of the replication protocol, so they cannot replicate to each other.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['S.agent.protocol', 'T.agent.protocol', 'S.agent.version', 'T.agent.version', 'X'],
    evaluate: (ctx) => {
      const s = ctx.snap.source!.agent!;
      const t = ctx.snap.target!.agent!;
      if (s.protocolVersion === null || t.protocolVersion === null) return [];
      if (Math.trunc(s.protocolVersion) === Math.trunc(t.protocolVersion)) return [];
      // The older agent is the one to move; ties (same release, different protocol) stay manual.
      const older = s.version && t.version && compareVersions(s.version, t.version) < 0 ? 'source' : 'target';
      const o = ctx.snap[older]!;
      return [
        {
          subject: `node=${o.hostname}`,
          message: `The source speaks replication protocol ${s.protocolVersion} and the target ${t.protocolVersion}; ${o.hostname} runs the older agent.`,
          evidence: { sourceProtocol: s.protocolVersion, targetProtocol: t.protocolVersion, sourceVersion: s.version, targetVersion: t.version, older },
        },
      ];
    },
    fix: {
      kind: 'conditional',
      phase: 2,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        const older = f.evidence.older as 'source' | 'target';
        const newer = older === 'source' ? 'target' : 'source';
        const from = ctx.snap[older]!.agent!.version;
        const to = ctx.snap[newer]!.agent!.version;
        const floor = ctx.snap.reference.agent.selfUpdateFloor;
        const below = (v: string | null) => v === null || compareVersions(v, floor) < 0;
        if (below(from) || below(to) || !to || compareVersions(from!, to) >= 0) {
          return { guidance: `Bring both agents to the same release. An agent below ${floor} cannot update itself: reinstall it with the install command from the server page.` };
        }
        return { plan: [upgradeAction(older, ctx.snap[older]!.hostname, from, to)] };
      },
    },
    legacy: ['EX-02', 'SQL-03', 'Same replication engine version everywhere'],
  },
  {
    id: 'agent.module-missing',
    family: 'agent',
    title: 'Agent module missing',
    detects: 'A capability module the pair needs (core, the application module, dns for DNS failover, directory for identity items, secrets for stored runbook credentials) is absent, disabled, or failed to load.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.agent.modules', 'N.agent.version', 'X', 'P'],
    evaluate: (ctx) => {
      const n = node(ctx);
      const out: FindingDraft[] = [];
      for (const name of neededModules(ctx.snap)) {
        const m = n.modules!.find((x) => x.name === name);
        if (m && m.state === 'loaded') continue;
        const state = m ? m.state : 'absent';
        out.push({
          subject: `module=${name}`,
          message: `The ${name} module is ${state === 'failed' ? `failing to load${m?.error ? ` (${m.error})` : ''}` : state} on ${where(ctx)}.`,
          evidence: { module: name, state, error: m?.error ?? null, required: ctx.snap.reference.modulesRequired[name] ?? null },
        });
      }
      return out;
    },
    fix: {
      kind: 'conditional',
      phase: 2,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        const n = node(ctx);
        const side = nodeSide(ctx);
        const name = String(f.evidence.module);
        const required = ctx.snap.reference.modulesRequired[name]!;
        const lib = missingLibrary(f.evidence.error as string | null);
        if (f.evidence.state === 'failed' && lib) {
          return { guidance: `The ${name} module cannot load because **${lib}** is missing on ${n.hostname}. Install the operating-system package that provides it, then re-validate.` };
        }
        const agentVersion = n.agent!.version;
        if (agentVersion === null || compareVersions(agentVersion, required) < 0) {
          return { plan: [upgradeAction(side, n.hostname, agentVersion, ctx.snap.reference.agent.channelVersion)] };
        }
        if (f.evidence.state === 'disabled') {
          return { plan: [{ action: 'agent.module.enable', node: side, module: name, description: `Enable the ${name} module on ${n.hostname}`, before: 'disabled', after: 'loaded' }] };
        }
        return { plan: [{ action: 'agent.module.install', node: side, module: name, version: required, description: `Install the ${name} module ${required} on ${n.hostname}`, before: String(f.evidence.state), after: required }] };
      },
    },
    legacy: ['EX-07', 'EX-09', 'EX-52', 'EX-53', 'EX-55', 'EX-56', 'SQL-07', 'SQL-47', 'SQL-48', 'SQL-50', 'SQL-51', 'SQL-58'],
  },
  {
    id: 'agent.module-outdated',
    family: 'agent',
    title: 'Agent module outdated',
    detects: 'An installed module is older than the version shipped with the agent’s release.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.agent.modules', 'N.agent.version', 'X'],
    evaluate: (ctx) => {
      const n = node(ctx);
      const req = ctx.snap.reference.modulesRequired;
      return n
        .modules!.filter((m) => m.name in req && m.state !== 'failed' && m.version !== null && compareVersions(m.version, req[m.name]!) < 0)
        .map((m) => ({ subject: `module=${m.name}`, message: `The ${m.name} module on ${where(ctx)} is ${m.version}; this release ships ${req[m.name]}.`, evidence: { module: m.name, version: m.version, required: req[m.name] } }));
    },
    fix: {
      kind: 'auto',
      phase: 2,
      blockedWhileProtected: false,
      plan: (ctx, f) => {
        const n = node(ctx);
        const side = nodeSide(ctx);
        const name = String(f.evidence.module);
        const required = String(f.evidence.required);
        const agentVersion = n.agent!.version;
        if (agentVersion === null || compareVersions(agentVersion, required) < 0) return [upgradeAction(side, n.hostname, agentVersion, ctx.snap.reference.agent.channelVersion)];
        return [{ action: 'agent.module.install', node: side, module: name, version: required, description: `Update the ${name} module on ${n.hostname} to ${required}`, before: String(f.evidence.version), after: required }];
      },
    },
    legacy: ['EX-08', 'EX-10', 'EX-54', 'EX-57', 'SQL-08', 'SQL-49', 'SQL-52', 'SQL-59'],
  },
  {
    id: 'agent.runs-as-custom-account',
    family: 'agent',
    title: 'Agent runs as a named account',
    detects: 'The agent runs under a named user instead of the platform default (LocalSystem on Windows; root or the packaged service user on Linux).',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['N.agent.account'],
    evaluate: (ctx) => {
      const acct = node(ctx).account!;
      if (acct.kind !== 'domain' && acct.kind !== 'local') return [];
      return [{ subject: `account=${acct.name}`, message: `The agent on ${where(ctx)} runs as the ${acct.kind} account ${acct.name}.`, evidence: { kind: acct.kind, name: acct.name } }];
    },
    fix: {
      kind: 'manual',
      guidance: 'Return the agent to its default identity, or confirm that this account holds every right listed under *Agent lacks rights* (file backup/restore rights, service control, snapshots). Then acknowledge this warning.',
    },
    legacy: ['EX-11', 'EX-12', 'SQL-11', 'SQL-12'],
  },
  {
    id: 'agent.app-access-denied',
    family: 'agent',
    title: 'Application module cannot sign in',
    detects: 'The agent’s application module cannot sign in to the application, or the identity lacks its role: SQL Server sysadmin, Exchange Organization Management, SharePoint farm administrator, a PostgreSQL superuser (or pg_read_all_settings, pg_monitor, REPLICATION and CREATEROLE), the documented MariaDB/MySQL grants.',
    scope: ['source', 'target'],
    appliesTo: ['exchange', 'sqlserver', 'sharepoint', 'postgres', 'mariadb'],
    severity: 'error',
    facts: ['N.agent.appAccess', 'P'],
    evaluate: (ctx) => {
      const access = node(ctx).appAccess;
      if (!access || (access.ok && access.missingRoles.length === 0)) return [];
      const what = access.ok ? `lacks ${access.missingRoles.join(', ')}` : `cannot sign in${access.error ? `: ${access.error.slice(0, 300)}` : ''}`;
      const credential = ctx.snap.pair.credentials.find((c) => c.purpose === 'app')?.credentialId ?? null;
      return [{ subject: `app=${access.app}`, message: `The ${access.app} module on ${where(ctx)} ${what}.`, evidence: { app: access.app, ok: access.ok, error: access.error?.slice(0, 300) ?? null, missingRoles: access.missingRoles, credentialId: credential } }];
    },
    fix: {
      kind: 'manual',
      guidance: 'Grant the required role to the identity the module signs in with: the agent’s own identity, or the application credential the pair references. Then re-validate.',
    },
    legacy: ['SQL: sysadmin role'],
  },
  {
    id: 'agent.data-channel-unreachable',
    family: 'agent',
    title: 'Replication data channel blocked',
    detects: 'The source agent cannot open the replication data channel to the target’s route address and data port, or the two agents are configured with different data ports.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    // R.channelProbe is read when there is one: before the first enable nothing listens on the
    // data port to probe, and the port settings can still be compared.
    facts: ['S.agent.dataPort', 'T.agent.dataPort', 'P', 'S.net', 'T.firewall'],
    evaluate: (ctx) => {
      const sp = ctx.snap.source!.agent!.dataPort;
      const tp = ctx.snap.target!.agent!.dataPort;
      const probe = ctx.snap.replication.channelProbe;
      const route = ctx.snap.pair.route;
      const out: FindingDraft[] = [];
      if (sp !== null && tp !== null && sp !== tp) {
        out.push({ subject: 'setting=dataPort', message: `The source agent uses data port ${sp} and the target agent ${tp}; both must use the same port.`, evidence: { sourcePort: sp, targetPort: tp } });
      }
      if (probe && !probe.ok) {
        out.push({ subject: `route=${route.address}:${route.port}`, message: `The source could not open the data channel to ${route.address}:${route.port}${probe.error ? ` (${probe.error})` : ''}.`, evidence: { address: route.address, port: route.port, error: probe.error } });
      }
      return out;
    },
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      privileged: true,
      decide: (ctx, f) => {
        const manual = { guidance: 'Open the data port along the network path (host firewalls, security groups, network firewalls) from the source to the target, and give both agents the same data-port setting.' };
        if (!f.subject.startsWith('route=')) return manual;
        const fw = ctx.snap.target!.firewall!;
        const port = Number(f.evidence.port);
        const rule = fw.ports.find((p) => p.port === port && p.protocol === 'tcp');
        const from = sourceAddressToward(ctx.snap.source!, String(f.evidence.address));
        if (!fw.agentManaged || !fw.manager || rule?.open === true || !from) return manual;
        return {
          plan: [
            {
              action: 'firewall.allow',
              node: 'target',
              port,
              protocol: 'tcp',
              fromCidr: `${from}/${from.includes(':') ? 128 : 32}`,
              description: `Allow TCP ${port} from the source ${from} in the ${fw.manager} firewall of ${ctx.snap.target!.hostname}`,
              before: rule?.open === false ? 'closed' : 'no rule',
              after: `open from ${from}`,
            },
          ],
        };
      },
    },
    legacy: ['Same service listen port on both servers'],
  },
  {
    id: 'agent.clock-skew',
    family: 'agent',
    title: 'Clock skew',
    detects: 'The node’s clock differs from the control plane’s by more than the tenant’s threshold (2 s by default). Beyond 30 s the lag, RPO and expiry facts from that node are not trusted.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['N.agent.clock', 'N.time', 'X'],
    evaluate: (ctx) => {
      const n = node(ctx);
      const offset = n.agent!.clockOffsetMs!;
      const p = ctx.snap.reference.policy;
      if (Math.abs(offset) <= p.clockSkewWarnMs) return [];
      return [{ subject: `node=${n.hostname}`, message: `The clock of ${where(ctx)} is off by ${(offset / 1000).toFixed(1)} s${Math.abs(offset) > p.clockSkewUnknownMs ? '; its time-based facts are treated as unknown' : ''}.`, evidence: { offsetMs: offset, thresholdMs: p.clockSkewWarnMs, timeService: n.time!.service } }];
    },
    fix: {
      kind: 'conditional',
      phase: 2,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        const n = node(ctx);
        const svc = n.time!.service;
        if (!svc) return { guidance: `No time service is configured on ${n.hostname}. Configure chrony or systemd-timesyncd (Linux) or W32Time (Windows) against a reliable source, then re-validate.` };
        return { plan: [{ action: 'time.resync', node: nodeSide(ctx), description: `Step the clock of ${n.hostname} through ${svc}`, before: `offset ${String(f.evidence.offsetMs)} ms`, after: `offset within ${ctx.snap.reference.policy.clockSkewWarnMs} ms` }] };
      },
    },
  },
  {
    id: 'agent.certificate-expiring',
    family: 'agent',
    title: 'Agent certificate expiring',
    detects: 'The agent’s mTLS client certificate expires within 30 days, which means its automatic renewal has failed.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['N.agent.cert', 'X'],
    evaluate: (ctx) => {
      const n = node(ctx);
      const notAfter = n.agent!.certNotAfter;
      if (notAfter === null || notAfter - ctx.snap.now > CERT_WARN_MS) return [];
      const days = Math.floor((notAfter - ctx.snap.now) / 86_400_000);
      return [{ subject: `node=${n.hostname}`, message: days < 0 ? `The agent certificate of ${where(ctx)} has expired.` : `The agent certificate of ${where(ctx)} expires in ${days} days.`, evidence: { notAfter: new Date(notAfter).toISOString() } }];
    },
    fix: {
      kind: 'auto',
      phase: 2,
      blockedWhileProtected: false,
      plan: (ctx, f) => [{ action: 'agent.cert.rotate', node: nodeSide(ctx), description: `Issue a new agent certificate for ${node(ctx).hostname}`, before: `expires ${String(f.evidence.notAfter)}`, after: 'renewed certificate' }],
    },
  },
];

/** The source's address facing the target route address (same subnet), or its first non-loopback IPv4. */
function sourceAddressToward(source: NodeFacts, address: string): string | null {
  const addrs = (source.interfaces ?? []).flatMap((i) => i.addresses).filter((a) => !a.address.startsWith('127.') && a.address !== '::1');
  const same = addrs.find((a) => a.family === 'ipv4' && sameSubnet(a.address, address, a.prefix));
  return (same ?? addrs.find((a) => a.family === 'ipv4') ?? addrs[0])?.address ?? null;
}

function sameSubnet(a: string, b: string, prefix: number): boolean {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => (acc << 8) + (Number(o) & 255), 0) >>> 0;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(a) || !/^\d+\.\d+\.\d+\.\d+$/.test(b)) return false;
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (n(a) & mask) === (n(b) & mask);
}
