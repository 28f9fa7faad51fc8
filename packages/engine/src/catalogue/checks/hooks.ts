import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { PairFacts } from '../snapshot.ts';
import { where } from './core-util.ts';

// The `hooks` family (catalogue §2.2, §4.2): runbook hooks the agents place and run on the nodes.

type Interpreter = 'bash' | 'sh' | 'python3' | 'pwsh';

/** Interpreters the pair's hooks need on a node: the generated bundle's own, plus what overlays use. */
function neededInterpreters(pair: PairFacts, family: 'linux' | 'windows'): Interpreter[] {
  const need = new Set<Interpreter>([family === 'windows' ? 'pwsh' : 'bash']);
  for (const o of pair.overlays) {
    const first = o.content.split('\n', 1)[0] ?? '';
    if (/\.py$/i.test(o.name) || /^#!.*python/.test(first)) need.add('python3');
    else if (/\.ps1$/i.test(o.name) || /^#!.*pwsh/.test(first)) need.add('pwsh');
    else if (/^#!.*bash/.test(first)) need.add('bash');
  }
  return [...need];
}

const side = (ctx: CheckContext) => ctx.side as 'source' | 'target';

/** Secret-looking content in an overlay: what kind, on which line (never the value). */
const secretPatterns: { kind: string; re: RegExp }[] = [
  { kind: 'private key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { kind: 'password argument', re: /(?:^|\s)(?:--password|--passwd|-Password|\/p:)(?:=|\s+)["']?(?![$%{"'<-])[^\s"']{4,}/i },
  { kind: 'secret assignment', re: /\b[\w-]*(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY)[\w-]*\s*[:=]\s*["']?(?![$%{"'<\s/\\]|[A-Za-z]:\\)[^\s"';]{4,}/i },
  { kind: 'plain-text secure string', re: /ConvertTo-SecureString\s+["'][^"']+["']\s+-AsPlainText/i },
  { kind: 'credentials in a URL', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:(?![$%{])[^\s/@]{3,}@/i },
  { kind: 'access token', re: /\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b/ },
  { kind: 'bearer token', re: /\bBearer\s+(?![$%{])[A-Za-z0-9._~+/-]{20,}/ },
];

export const hooksChecks: CheckDef[] = [
  {
    id: 'hooks.not-runnable',
    family: 'hooks',
    title: 'Hooks cannot run',
    detects: 'The agent cannot place or run the pair’s hooks on a node that may run them: the hook directory is missing or not writable, its file system is mounted noexec, the local agent policy disables hooks, or an interpreter the hooks need (bash, PowerShell 7, python3) is absent.',
    scope: ['source', 'target', 'cluster'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.hooks', 'N.os', 'P'],
    evaluate: (ctx) => {
      const n = ctx.node!;
      const h = n.hooks!;
      const out: FindingDraft[] = [];
      if (!h.exists || !h.writable) out.push({ subject: `path=${h.dir}`, message: `The hook directory ${h.dir} on ${where(ctx)} is ${h.exists ? 'not writable by the agent' : 'missing'}.`, evidence: { cause: h.exists ? 'not-writable' : 'missing', dir: h.dir } });
      if (h.noexec) out.push({ subject: `path=${h.dir}`, message: `The hook directory ${h.dir} on ${where(ctx)} is on a file system mounted noexec.`, evidence: { cause: 'noexec', dir: h.dir } });
      if (!h.allowed) out.push({ subject: 'policy=hooks', message: `The local agent policy on ${where(ctx)} does not allow running hooks.`, evidence: { cause: 'policy' } });
      for (const i of neededInterpreters(ctx.snap.pair, n.os!.family)) {
        if (!h.interpreters[i]) out.push({ subject: `interpreter=${i}`, message: `The hooks need ${i}, which is not installed on ${where(ctx)}.`, evidence: { cause: 'interpreter', interpreter: i } });
      }
      return out;
    },
    fix: {
      kind: 'conditional',
      phase: 2,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        const cause = f.evidence.cause;
        const host = ctx.node!.hostname;
        if (cause === 'missing' || cause === 'not-writable') {
          return { plan: [{ action: 'hooks.prepare-dir', node: side(ctx), description: `Create the agent-owned hook directory ${String(f.evidence.dir)} on ${host}`, before: String(cause), after: 'exists, owned and writable by the agent' }] };
        }
        if (cause === 'noexec') return { guidance: `The hook directory sits on a file system mounted **noexec** on ${host}. Remount it without noexec, or point the agent's hook directory at an executable location, then re-validate.` };
        if (cause === 'policy') return { guidance: `Hooks are disabled by the agent's local policy on ${host}. Allow them in the agent configuration if the pair's runbooks should run there.` };
        return { guidance: `Install **${String(f.evidence.interpreter)}** on ${host} (Tandem never installs interpreters), then re-validate.` };
      },
    },
    legacy: ['EX-15', 'EX-77', 'SQL-17'],
  },
  {
    id: 'hooks.drift',
    family: 'hooks',
    title: 'Hook bundle changed on the node',
    detects: 'The hook bundle deployed on a node differs from the one the control plane generated for the pair: it was edited in place, or an older deployment is still there.',
    scope: ['source', 'target', 'cluster'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['N.hooks', 'P'],
    evaluate: (ctx) => {
      const h = ctx.node!.hooks!;
      if (h.bundleDigest === null) return [];
      const expected = ctx.snap.pair.hookBundleDigest;
      if (expected === undefined) throw new Error('the generated hook bundle digest was not computed');
      if (expected === null || expected === h.bundleDigest) return [];
      return [{ subject: `path=${h.dir}`, message: `The hooks in ${h.dir} on ${where(ctx)} are not the bundle generated for this pair.`, evidence: { deployedDigest: h.bundleDigest, expectedDigest: expected } }];
    },
    fix: {
      kind: 'auto',
      phase: 2,
      blockedWhileProtected: false,
      plan: (ctx, f) => [
        {
          action: 'hooks.deploy',
          node: side(ctx),
          digest: String(f.evidence.expectedDigest),
          description: `Redeploy the generated hook bundle on ${ctx.node!.hostname} (the local edits are kept in this finding's evidence; lasting changes belong in pair overlays)`,
          before: String(f.evidence.deployedDigest),
          after: String(f.evidence.expectedDigest),
        },
      ],
    },
  },
  {
    id: 'hooks.inline-secret',
    family: 'hooks',
    title: 'Secret written into a hook overlay',
    detects: 'A pair overlay hook contains what looks like a literal secret: a password argument or assignment, a private key, or an access token.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P'],
    evaluate: (ctx) => {
      const out: FindingDraft[] = [];
      for (const o of ctx.snap.pair.overlays) {
        const hits: { line: number; kind: string }[] = [];
        o.content.split('\n').forEach((text, i) => {
          const hit = secretPatterns.find((p) => p.re.test(text));
          if (hit) hits.push({ line: i + 1, kind: hit.kind });
        });
        if (hits.length) out.push({ subject: `overlay=${o.name}`, message: `The overlay hook ${o.name} contains what looks like a ${hits[0]!.kind} (line ${hits[0]!.line}).`, evidence: { overlay: o.name, hits } });
      }
      return out;
    },
    fix: {
      kind: 'manual',
      guidance: 'Store the secret in the credential vault and refer to it by name in the overlay; the agent injects it into the hook’s environment at run time. Then rotate the exposed secret, since it has been stored in the pair configuration.',
    },
  },
];
