import type { CheckDef, FindingDraft } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { dnsKey, needsDirectory, sourceFqdn } from './failover-util.ts';

// The `directory` family (catalogue §2.11, §4.8): directory rights and domain shape. The rows apply
// when the failover plan needs directory actions (needsDirectory: the worker runs the directory
// probe exactly then) or when the probe ran anyway. directory.unreachable is the gate: when the
// probe cannot bind, the rows reading A are unknown and point at it.

const when = (snap: FactsSnapshot) => needsDirectory(snap) || snap.directory !== undefined;
const base = { family: 'directory', appliesTo: ['any'] as CheckDef['appliesTo'], when };

/** Service classes clients ask tickets for, per application. */
const serviceClasses: Partial<Record<FactsSnapshot['pair']['app'], string[]>> = {
  postgres: ['postgres'],
  mariadb: ['mariadb', 'mysql'],
  fileserver: ['cifs', 'nfs', 'host'],
};
const spnRight = /spn|serviceprincipalname/i;
const mayDelegate = /delegat|write.?dacl|generic.?all|full.?control/i;
const shortName = (h: string) => dnsKey(h).split('.')[0]!;

export const directoryChecks: CheckDef[] = [
  {
    ...base,
    id: 'directory.unreachable',
    title: 'Directory unreachable',
    detects: 'The failover needs directory actions (SPN moves, a name alias, Exchange object updates, record security in AD-integrated zones), and the executor cannot bind to a domain controller with its computer account or the stored directory credential.',
    scope: ['directory'],
    severity: 'error',
    gate: true,
    facts: ['P', 'V'],
    evaluate: (ctx) => {
      const d = ctx.snap.directory;
      const g = ctx.snap.gatherers.directory;
      const credentialStored = ctx.snap.vault.some((v) => v.purpose === 'directory');
      if (d && !d.reachable) return [{ subject: `domain=${d.domain ?? 'unknown'}`, message: `The executor could not bind to a domain controller${d.domain ? ` of ${d.domain}` : ''}: ${d.error ?? 'no answer'}.`, evidence: { domain: d.domain, error: d.error, credentialStored } }];
      if (d === null && g && !g.ok) return [{ subject: 'domain=unknown', message: `The directory probe could not run: ${g.error ?? 'no answer'}.`, evidence: { domain: null, error: g.error, credentialStored } }];
      return [];
    },
    fix: { kind: 'manual', guidance: 'Make a domain controller reachable from the executor agent (the domain’s SRV records; ports 88, 389 or 636, and 445), or store a directory credential that can bind, then validate again.' },
  },
  {
    ...base,
    id: 'directory.single-label-domain',
    title: 'Single-label domain',
    detects: 'The directory domain’s name has no dotted suffix (e.g. CORP instead of corp.example.com).',
    scope: ['directory'],
    severity: 'error',
    facts: ['A'],
    evaluate: (ctx) => {
      const d = ctx.snap.directory!;
      if (!d.singleLabel && (!d.domain || d.domain.includes('.'))) return [];
      return [{ subject: `domain=${d.domain ?? 'unknown'}`, message: `The domain ${d.domain ?? ''} is a single-label name, which Tandem does not support.`, evidence: { domain: d.domain, singleLabel: true } }];
    },
    fix: { kind: 'manual', guidance: 'Single-label domains are not supported: the domain must have a fully qualified DNS name.' },
    legacy: ['HP: no single-label domains'],
  },
  {
    ...base,
    id: 'directory.spn-write-denied',
    title: 'SPNs cannot be moved',
    detects: 'The executor principal (the target’s computer account when the agent runs as system, otherwise the directory credential) may not read and write servicePrincipalName, including validated write, on the source computer object, so host and service SPNs cannot move at failover.',
    scope: ['directory'],
    severity: 'error',
    facts: ['A', 'P', 'V'],
    evaluate: (ctx) => {
      const p = ctx.snap.pair;
      if (!p.identity.hostSpn && !['sqlserver', 'sharepoint', 'exchange'].includes(p.app)) return [];
      const denied = ctx.snap.directory!.rights.filter((r) => spnRight.test(r.right) && !r.allowed);
      const groups = new Map<string, { object: string; principal: string; rights: string[] }>();
      for (const r of denied) {
        const key = `${r.object}\u0000${r.principal}`;
        const g = groups.get(key) ?? { object: r.object, principal: r.principal, rights: [] };
        g.rights.push(r.right);
        groups.set(key, g);
      }
      return [...groups.values()].map<FindingDraft>((g) => ({ subject: `object=${g.object}`, message: `${g.principal} may not ${g.rights.join(', ')} on ${g.object}, so its SPNs cannot move at failover.`, evidence: { object: g.object, principal: g.principal, rights: g.rights } }));
    },
    fix: {
      kind: 'conditional',
      phase: 4,
      blockedWhileProtected: false,
      privileged: true,
      decide: (ctx, f) => {
        const { object, principal, rights } = f.evidence as { object: string; principal: string; rights: string[] };
        const delegating = ctx.snap.vault.find((v) => v.purpose === 'directory' && v.rights.some((r) => mayDelegate.test(r)));
        if (!delegating) return { guidance: `The stored directory credential may not delegate rights. Ask a domain administrator to grant **${principal}** these rights on **${object}**: ${rights.map((r) => `\`${r}\``).join(', ')} (read and write servicePrincipalName, and validated write of SPNs).` };
        return { plan: [{ action: 'directory.grant', object, principal, rights, description: `Grant ${principal} ${rights.join(', ')} on ${object}`, before: `denied: ${rights.join(', ')}`, after: `allowed: ${rights.join(', ')}` }] };
      },
    },
    legacy: ['EX-18', 'SQL-16'],
  },
  {
    ...base,
    id: 'directory.keytab-missing',
    title: 'Target keytab lacks the source’s principals',
    detects: 'The application uses Kerberos, and the target’s keytab has no keys for the principals clients will ask for under the source’s name after failover (postgres/, HTTP/, nfs/, cifs/ and similar).',
    scope: ['target'],
    appliesTo: ['postgres', 'mariadb', 'fileserver', 'generic-service'],
    severity: 'warning',
    facts: ['A', 'P', 'T.agent'],
    evaluate: (ctx) => {
      const fqdn = sourceFqdn(ctx.snap);
      if (!fqdn) return [];
      const classes = serviceClasses[ctx.snap.pair.app];
      const target = shortName(ctx.node!.hostname);
      const keytabs = ctx.snap.directory!.keytabs;
      const norm = (p: string) => p.toLowerCase();
      // Kerberos is in use when a keytab (the source's) holds service keys under the source name.
      const wanted = new Set(
        keytabs
          .filter((k) => shortName(k.host) !== target)
          .flatMap((k) => k.principals)
          .filter((p) => {
            const [svc = '', rest = ''] = p.split('/');
            return dnsKey(rest.split('@')[0]!) === dnsKey(fqdn) && (!classes || classes.includes(svc.toLowerCase()));
          }),
      );
      const held = new Set((keytabs.find((k) => shortName(k.host) === target)?.principals ?? []).map(norm));
      return [...wanted]
        .filter((p) => !held.has(norm(p)))
        .map((p) => ({ subject: `principal=${p}`, message: `The target ${ctx.node!.hostname}’s keytab has no key for ${p}; Kerberos clients of the source name would fail after failover.`, evidence: { principal: p, targetHost: ctx.node!.hostname } }));
    },
    fix: { kind: 'manual', guidance: 'Add those principals to the target’s keytab (for example with `ktutil`, or `msktutil`/`adcli` against the directory), or register an alias for the source name on the target’s account and export its keys.' },
  },
];
