import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FixAction } from '../actions.ts';
import { mapToTarget, replicated, sideNode, targetPath } from '../apps/common.ts';
import { generic, pairProbes } from '../apps/generic.ts';

// The `generic-service` family (catalogue §3.4). The services.* checks already keep the unit
// present, stopped and not auto-starting on the target; these add parity of the definition
// itself, what it needs on the target, the files it names, and a probe that proves it works.

const base: Pick<CheckDef, 'family' | 'appliesTo'> = { family: 'generic-service', appliesTo: ['generic-service'] };

/** Probe kinds that show the service itself answers (files matching proves nothing about it). */
const serviceProbes = new Set(['tcp', 'hook', 'http', 'command']);

function definitionDrift(ctx: CheckContext): FindingDraft[] {
  const s = generic(ctx.snap, 'source');
  const t = generic(ctx.snap, 'target');
  if (s.digest !== null && s.digest === t.digest) return [];
  const keys = [...new Set([...Object.keys(s.definition), ...Object.keys(t.definition)])].sort();
  const differs = keys.filter((k) => s.definition[k] !== t.definition[k]);
  if (differs.length === 0) return [];
  const unit = sideNode(ctx.snap, 'target').services!.find((x) => x.name === t.service);
  return [
    {
      subject: `service=${s.service}`,
      message: `The definition of ${s.service} differs on the target: ${differs.join(', ')}.`,
      evidence: { service: s.service, differs, source: Object.fromEntries(differs.map((k) => [k, s.definition[k] ?? null])), target: Object.fromEntries(differs.map((k) => [k, t.definition[k] ?? null])), sourceDigest: s.digest, startMode: unit?.startMode ?? null },
    },
  ];
}

function prerequisites(ctx: CheckContext): FindingDraft[] {
  const s = generic(ctx.snap, 'source');
  const t = generic(ctx.snap, 'target');
  const node = ctx.node!;
  const out: FindingDraft[] = [];
  if (s.executable) {
    const exe = mapToTarget(ctx.snap, s.executable);
    // The target's own unit names the same program and its collector checked it: no path fact needed.
    const own = t.executable === exe && typeof t.executableExists === 'boolean' ? t.executableExists : null;
    if (!(own ?? targetPath(node, exe).exists)) out.push({ subject: `executable=${exe}`, message: `${exe}, which ${s.service} runs, is missing on the target ${node.hostname}.`, evidence: { executable: exe } });
  }
  if (s.account) {
    const exists = t.accounts[s.account];
    if (exists === undefined) throw new Error(`the target was not asked whether the account ${s.account} exists`);
    if (!exists) out.push({ subject: `account=${s.account}`, message: `The run-as account ${s.account} does not exist on the target.`, evidence: { account: s.account } });
  }
  const units = node.services!;
  for (const dep of s.dependencies) {
    if (!units.some((u) => u.name === dep && u.state !== 'not-found')) out.push({ subject: `dependency=${dep}`, message: `${s.service} depends on ${dep}, which the target does not have.`, evidence: { dependency: dep } });
  }
  for (const p of s.ports) {
    const holder = node.listening!.find((l) => l.protocol === p.protocol && l.port === p.port);
    if (holder) out.push({ subject: `port=${p.protocol}/${p.port}`, message: `${p.protocol.toUpperCase()} port ${p.port}, which ${s.service} uses, is already held on the target by ${holder.process ?? 'another process'}.`, evidence: { protocol: p.protocol, port: p.port, process: holder.process } });
  }
  return out;
}

function externalFiles(ctx: CheckContext): FindingDraft[] {
  const s = generic(ctx.snap, 'source');
  const t = generic(ctx.snap, 'target');
  const node = sideNode(ctx.snap, 'target');
  const theirs = new Map(t.referencedFiles.map((f) => [f.path, f.digest]));
  return s.referencedFiles.flatMap((f) => {
    if (replicated(ctx.snap, f.path)) return [];
    const dst = mapToTarget(ctx.snap, f.path);
    const exists = targetPath(node, dst).exists;
    const digest = theirs.get(dst);
    const differs = exists && f.kind === 'file' && f.digest !== null && digest !== undefined && digest !== f.digest;
    if (exists && !differs) return [];
    return [{ subject: `path=${f.path}`, message: `${f.path}, named by the definition of ${s.service}, is outside the replication rules and ${exists ? 'differs on' : 'missing from'} the target.`, evidence: { path: f.path, kind: f.kind, missing: !exists } }];
  });
}

export const genericServiceChecks: CheckDef[] = [
  {
    ...base,
    id: 'generic-service.definition-drift',
    title: 'Service definition differs on the target',
    detects: 'The service definition differs between source and target. systemd: unit file and drop-ins (ExecStart, User, Environment, limits, dependencies). Windows: binary path and arguments, environment, recovery actions, dependencies.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.svc', 'T.svc', 'S.app.generic', 'T.app.generic'],
    evaluate: definitionDrift,
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const service = String(f.evidence.service);
        // The copy keeps the target passive: its start mode stays disabled, or manual at most.
        const startup = f.evidence.startMode === 'disabled' ? 'disabled' : 'manual';
        return [{ action: 'app', node: 'target', app: 'generic-service', op: 'copy-definition', params: { service, definitionDigest: f.evidence.sourceDigest, startup }, description: `Copy the source's definition of ${service} to the target, keeping it ${startup}`, before: (f.evidence.differs as string[]).join(', '), after: 'as on the source' } satisfies FixAction];
      },
    },
  },
  {
    ...base,
    id: 'generic-service.prerequisites-missing-on-target',
    title: 'Service prerequisites missing on the target',
    detects: 'Something the source definition relies on is missing on the target: the executable, the run-as account, dependency units or services, or a free listening port (another process holds a port the service uses).',
    scope: ['target'],
    methods: ['files'],
    severity: 'error',
    facts: ['S.app.generic', 'T.app.generic', 'T.paths', 'T.svc', 'T.listening', 'P'],
    evaluate: prerequisites,
    fix: { kind: 'manual', guidance: 'Install the program, create the run-as account or the dependency, or stop whatever holds the port on the target, then validate again.' },
  },
  {
    ...base,
    id: 'generic-service.external-files-not-replicated',
    title: 'Files the service names are not replicated',
    detects: 'Files the definition references (EnvironmentFile, WorkingDirectory, configuration paths in arguments) are outside the replication rules and differ or are missing on the target.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.app.generic', 'T.app.generic', 'T.paths', 'P'],
    evaluate: externalFiles,
    fix: {
      kind: 'auto',
      phase: 8,
      blockedWhileProtected: false,
      plan: (_ctx, f) => [{ action: 'repset.add-rule', path: String(f.evidence.path), include: true, recursive: f.evidence.kind === 'dir', description: `Replicate ${String(f.evidence.path)}; it is mirrored incrementally`, before: 'not replicated', after: 'replicated' }],
    },
  },
  {
    ...base,
    id: 'generic-service.health-probe-missing',
    title: 'No probe proves the service works',
    detects: 'No post-start probe (TCP connect, HTTP status, command) is declared, so a failover cannot prove the service works on the target.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'warning',
    facts: ['P'],
    evaluate: (ctx) => (pairProbes(ctx.snap.pair).some((p) => serviceProbes.has(p.kind)) ? [] : [{ subject: 'probe=service', message: `No probe of ${ctx.snap.pair.name} checks that the service answers after it starts.`, evidence: { probes: pairProbes(ctx.snap.pair).map((p) => p.kind) } }]),
    fix: { kind: 'manual', guidance: 'Declare a probe in the pair’s settings: a TCP port that must answer, or a script that exits 0 when the service works.' },
  },
];
