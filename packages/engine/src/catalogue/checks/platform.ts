import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';
import { appFactsOf, appKeyOf, pathMapEntryOf, stringOr, targetPathOf, volumeOf, where } from './core-util.ts';

// The `platform` family (catalogue §2.3, §4.3): operating systems, volumes, install layout,
// space and capacity.

type Os = NonNullable<NodeFacts['os']>;
type App = FactsSnapshot['pair']['app'];

/**
 * The built-in support matrix (X.supportMatrix until the control plane serves one): the oldest
 * supported major release per Linux distribution, Windows Server 2016 or later, and the apps that
 * run on Windows only.
 */
export const osSupportMatrix = {
  linux: [
    { distro: 'Debian', match: /debian/i, minMajor: 11 },
    { distro: 'Ubuntu', match: /ubuntu/i, minMajor: 20 },
    { distro: 'Red Hat family', match: /red hat|rhel|rocky|alma|centos stream|oracle linux/i, minMajor: 8 },
    { distro: 'SUSE', match: /suse|sles/i, minMajor: 15 },
    { distro: 'Amazon Linux', match: /amazon linux/i, minMajor: 2 },
  ],
  windowsServerMinYear: 2016,
  windowsOnly: ['exchange', 'sharepoint'] as App[],
};

const majorOf = (os: Os): number | null => {
  const n = Number.parseInt(os.major ?? os.version, 10);
  return Number.isFinite(n) ? n : null;
};
const windowsYear = (os: Os): number | null => {
  const m = /\b(20\d\d)\b/.exec(os.name);
  return m ? Number(m[1]) : null;
};

/** Why an OS is outside the matrix for the app, or null when supported. */
function unsupportedReason(os: Os, app: App): string | null {
  if (os.family === 'linux' && osSupportMatrix.windowsOnly.includes(app)) return `${app} runs on Windows only`;
  if (os.family === 'windows') {
    if (!/server/i.test(os.name)) return 'client editions of Windows are not supported';
    const year = windowsYear(os);
    if (year !== null && year < osSupportMatrix.windowsServerMinYear) return `Windows Server ${osSupportMatrix.windowsServerMinYear} or later is required`;
    return null;
  }
  const row = osSupportMatrix.linux.find((r) => r.match.test(os.name));
  if (!row) return 'this distribution is not in the support matrix';
  const major = majorOf(os);
  if (major === null || major < row.minMajor) return `${row.distro} ${row.minMajor} or later is required`;
  return null;
}

/** A release key to compare sides: distribution + major on Linux, the Server year (or build) on Windows. */
function releaseOf(os: Os): string {
  if (os.family === 'windows') return String(windowsYear(os) ?? os.version.split('.').slice(0, 3).join('.'));
  const distro = osSupportMatrix.linux.find((r) => r.match.test(os.name))?.distro ?? os.name.split(/\s/)[0] ?? os.name;
  return `${distro} ${majorOf(os) ?? os.version}`;
}

/** Methods whose paths must be identical on both sides (no path map). */
const identicalPaths = (snap: FactsSnapshot) => ['exchange', 'sharepoint'].includes(snap.pair.app) || (snap.pair.app === 'sqlserver' && snap.pair.method === 'instance');

/** The executable a service definition starts (ExecStart, or a Windows BinaryPathName/ImagePath), without arguments. */
export function executableOf(definition: Record<string, string> | null): string | null {
  const raw = definition?.ExecStart ?? definition?.BinaryPathName ?? definition?.ImagePath ?? definition?.PathName;
  if (!raw) return null;
  const s = raw.trim().replace(/^[-@+!:]+/, '');
  if (s.startsWith('"')) return s.slice(1).split('"', 1)[0] ?? null;
  const exe = /^[A-Za-z]:\\.*?\.exe\b/i.exec(s);
  return exe ? exe[0] : (s.split(/\s+/, 1)[0] ?? null);
}
const samePath = (a: string, b: string) => (/^[A-Za-z]:/.test(a) ? a.toLowerCase() === b.toLowerCase() : a === b);

interface VolumeNeed {
  mountPoint: string;
  sizeBytes: number;
  freeBytes: number;
  /** Source bytes landing on this target volume. */
  sourceBytes: number;
  /** Bytes of those paths already on the target. */
  presentBytes: number;
  paths: string[];
  /** Paths whose size was not measured (a walk past its limits): their source volume's used bytes stand in, an upper bound. */
  estimated: string[];
}

/** Groups the replicated roots by the target volume they land on. Throws (→ unknown) when a size was not measured. */
function targetVolumeNeeds(ctx: CheckContext): VolumeNeed[] {
  const snap = ctx.snap;
  const src = snap.source!.paths!;
  const tgt = ctx.node!;
  const needs = new Map<string, VolumeNeed>();
  for (const root of snap.pair.rules?.roots ?? []) {
    const s = src.find((p) => samePath(p.path, root));
    if (!s) throw new Error(`the size of ${root} on the source was not measured`);
    if (!s.exists) continue;
    const sv = s.usedBytes === null ? volumeOf(snap.source!.volumes!, root) : null;
    if (s.usedBytes === null && !sv) throw new Error(`the size of ${root} on the source was not measured`);
    const bytes = s.usedBytes ?? sv!.sizeBytes - sv!.freeBytes;
    const targetPath = targetPathOf(snap, root);
    const vol = volumeOf(tgt.volumes!, targetPath);
    if (!vol) continue;
    const present = tgt.paths!.find((p) => samePath(p.path, targetPath));
    const n = needs.get(vol.mountPoint) ?? { mountPoint: vol.mountPoint, sizeBytes: vol.sizeBytes, freeBytes: vol.freeBytes, sourceBytes: 0, presentBytes: 0, paths: [], estimated: [] };
    n.sourceBytes += bytes;
    if (s.usedBytes === null) n.estimated.push(root);
    n.presentBytes += present?.exists ? (present.usedBytes ?? 0) : 0;
    n.paths.push(targetPath);
    needs.set(vol.mountPoint, n);
  }
  return [...needs.values()];
}

/** An estimate that does not fit proves nothing: the check is unknown (throws) rather than fired. */
function unmeasured(n: VolumeNeed): false {
  if (n.estimated.length) throw new Error(`the size of ${n.estimated.join(', ')} on the source was not measured, and its whole volume does not fit ${n.mountPoint}`);
  return false;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

export const platformChecks: CheckDef[] = [
  {
    id: 'platform.os-unsupported',
    family: 'platform',
    title: 'Operating system not supported',
    detects: 'A node’s operating system family, edition or release is outside the support matrix for the pair’s application.',
    scope: ['source', 'target', 'cluster'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.os', 'P', 'X'],
    evaluate: (ctx) => {
      const os = ctx.node!.os!;
      const why = unsupportedReason(os, ctx.snap.pair.app);
      if (!why) return [];
      return [{ subject: `node=${ctx.node!.hostname}`, message: `${os.name} on ${where(ctx)} is not supported for this pair: ${why}.`, evidence: { family: os.family, name: os.name, version: os.version, reason: why } }];
    },
    fix: { kind: 'manual', guidance: 'Move the node to a supported operating-system release (see the support matrix in the documentation), then re-validate.' },
    legacy: ['EX-04', 'EX-76', 'SQL-05'],
  },
  {
    id: 'platform.os-family-mismatch',
    family: 'platform',
    title: 'Source and target run different operating systems',
    detects: 'The source and the target run different operating-system families (Windows and Linux).',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['S.os', 'T.os'],
    evaluate: (ctx) => {
      const s = ctx.snap.source!.os!;
      const t = ctx.snap.target!.os!;
      if (s.family === t.family) return [];
      return [{ subject: `node=${ctx.snap.target!.hostname}`, message: `The source runs ${s.family} and the target ${t.family}.`, evidence: { source: s.family, target: t.family } }];
    },
    fix: { kind: 'manual', guidance: 'Choose a target that runs the same operating-system family as the source.' },
    legacy: ['EX-05', 'SQL-04'],
  },
  {
    id: 'platform.os-major-mismatch',
    family: 'platform',
    title: 'Different operating-system releases',
    detects: 'Source and target run the same family but different major releases (Windows Server 2019 and 2022, RHEL 8 and 9, different distributions).',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['S.os', 'T.os'],
    evaluate: (ctx) => {
      const s = ctx.snap.source!.os!;
      const t = ctx.snap.target!.os!;
      if (s.family !== t.family) return [];
      const a = releaseOf(s);
      const b = releaseOf(t);
      if (a === b) return [];
      return [{ subject: `node=${ctx.snap.target!.hostname}`, message: `The source runs ${s.name} and the target ${t.name}.`, evidence: { source: a, target: b } }];
    },
    fix: { kind: 'manual', guidance: 'Align the releases, or accept the difference once a test failover has succeeded (acknowledge this warning).' },
    legacy: ['EX-05', 'SQL-04'],
  },
  {
    id: 'platform.volume-missing-on-target',
    family: 'platform',
    title: 'Volume missing on the target',
    detects: 'A drive letter or mount point holding replicated source data has no counterpart on the target, and no path-map entry sends the data elsewhere.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['S.vol', 'T.vol', 'P'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const sv = snap.source!.volumes!;
      const tv = ctx.node!.volumes!;
      const out = new Map<string, FindingDraft>();
      for (const root of snap.pair.rules?.roots ?? []) {
        const vol = volumeOf(sv, root);
        if (!vol) continue;
        const mapped = pathMapEntryOf(snap, root);
        if (mapped && !identicalPaths(snap)) continue;
        if (tv.some((v) => samePath(v.mountPoint, vol.mountPoint))) continue;
        const prev = out.get(vol.mountPoint);
        const paths = [...((prev?.evidence.paths as string[] | undefined) ?? []), root];
        out.set(vol.mountPoint, { subject: `volume=${vol.mountPoint}`, message: `The volume ${vol.mountPoint} holding ${paths.join(', ')} on the source does not exist on ${where(ctx)}.`, evidence: { volume: vol.mountPoint, paths, pathMapped: mapped !== null } });
      }
      return [...out.values()];
    },
    fix: {
      kind: 'manual',
      guidance: 'Add a volume with the same drive letter or mount point to the target, or map the path to an existing target location in the pair’s path map. SQL Server (instance method), Exchange and SharePoint pairs need identical paths and cannot use a path map.',
    },
    legacy: ['SQL-84', 'Matching drive letters'],
  },
  {
    id: 'platform.install-path-mismatch',
    family: 'platform',
    title: 'Application installed elsewhere on the target',
    detects: 'The application’s program files live in a different location on the target, so configuration replicated from the source would point at the wrong place. Compared through the executables of the pair’s services, and the install path the application module reports.',
    scope: ['pair'],
    appliesTo: ['exchange', 'sqlserver', 'sharepoint', 'generic-service'],
    severity: 'error',
    facts: ['P', 'S.svc', 'T.svc'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const s = snap.source!;
      const t = snap.target!;
      const out: FindingDraft[] = [];
      for (const { name } of snap.pair.services) {
        const a = executableOf(s.services!.find((x) => x.name === name)?.definition ?? null);
        const b = executableOf(t.services!.find((x) => x.name === name)?.definition ?? null);
        if (a && b && !samePath(a, b)) out.push({ subject: `service=${name}`, message: `${name} runs ${a} on the source but ${b} on the target.`, evidence: { source: a, target: b } });
      }
      // The application module's own install path, where it reports one (not for generic services).
      if (snap.pair.app !== 'generic-service' && s.apps[appKeyOf(snap.pair.app)] !== undefined && t.apps[appKeyOf(snap.pair.app)] !== undefined) {
        const a = stringOr(appFactsOf(s, appKeyOf(snap.pair.app))?.installPath);
        const b = stringOr(appFactsOf(t, appKeyOf(snap.pair.app))?.installPath);
        if (a && b && !samePath(a, b)) out.push({ subject: `app=${snap.pair.app}`, message: `${snap.pair.app} is installed in ${a} on the source but ${b} on the target.`, evidence: { source: a, target: b } });
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Reinstall the application on the target in the same location as on the source, then re-validate.' },
    legacy: ['Program files in the same location'],
  },
  {
    id: 'platform.target-space-insufficient',
    family: 'platform',
    title: 'Not enough space on the target',
    detects: 'On a target volume, free space plus the data already present for the replicated paths is below the tenant’s margin (110 % by default) of the bytes the source holds in those paths.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['S.vol', 'T.vol', 'S.paths', 'T.paths', 'P', 'X'],
    evaluate: (ctx) => {
      const ratio = ctx.snap.reference.policy.spaceErrorRatio;
      return targetVolumeNeeds(ctx)
        .filter((n) => n.freeBytes + n.presentBytes < ratio * n.sourceBytes && !unmeasured(n))
        .map((n) => ({
          subject: `volume=${n.mountPoint}`,
          message: `${n.mountPoint} on ${where(ctx)} has ${gib(n.freeBytes + n.presentBytes)} available for ${gib(n.sourceBytes)} of source data; ${Math.round(ratio * 100)} % is needed.`,
          evidence: { volume: n.mountPoint, freeBytes: n.freeBytes, presentBytes: n.presentBytes, sourceBytes: n.sourceBytes, ratio, paths: n.paths },
        }));
    },
    fix: { kind: 'manual', guidance: 'Grow the target volume, or narrow the pair’s selection, then re-validate.' },
  },
  {
    id: 'platform.target-space-low',
    family: 'platform',
    title: 'Little space left on the target after the copy',
    detects: 'After a full copy a target volume would keep less headroom than the tenant’s policy (20 % by default), or the source’s rate of change would fill it within the policy’s horizon (30 days by default).',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['S.vol', 'T.vol', 'T.paths', 'S.paths', 'R.changeRate', 'P', 'X'],
    evaluate: (ctx) => {
      const p = ctx.snap.reference.policy;
      const rate = ctx.snap.replication.changeRateBytesPerDay!;
      const out: FindingDraft[] = [];
      for (const n of targetVolumeNeeds(ctx)) {
        if (n.freeBytes + n.presentBytes < p.spaceErrorRatio * n.sourceBytes) continue; // the error check reports it
        const after = n.freeBytes + n.presentBytes - n.sourceBytes;
        const headroom = n.sizeBytes > 0 ? after / n.sizeBytes : 0;
        const days = rate > 0 ? after / rate : null;
        if (headroom >= p.spaceHeadroomRatio && (days === null || days > p.spaceFullDays)) continue;
        unmeasured(n);
        out.push({
          subject: `volume=${n.mountPoint}`,
          message:
            headroom < p.spaceHeadroomRatio
              ? `${n.mountPoint} on ${where(ctx)} would keep ${Math.round(headroom * 100)} % free after the copy (policy: ${Math.round(p.spaceHeadroomRatio * 100)} %).`
              : `At the source’s change rate, ${n.mountPoint} on ${where(ctx)} fills in about ${Math.floor(days!)} days.`,
          evidence: { volume: n.mountPoint, sizeBytes: n.sizeBytes, freeAfterCopyBytes: after, changeRateBytesPerDay: rate, headroom: Math.round(headroom * 1000) / 1000, daysToFull: days === null ? null : Math.floor(days) },
        });
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Plan capacity: grow the target volume before it fills, or narrow the selection.' },
  },
  {
    id: 'platform.target-capacity-lower',
    family: 'platform',
    title: 'Target smaller than the source',
    detects: 'The target has fewer CPU cores than the source, or less memory than the tenant’s share of the source’s (90 % by default), so the service may run degraded after a failover.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['S.hw', 'T.hw', 'X'],
    evaluate: (ctx) => {
      const s = ctx.snap.source!.hw!;
      const t = ctx.snap.target!.hw!;
      const ratio = ctx.snap.reference.policy.capacityMemoryRatio;
      const fewerCores = t.cpuCount < s.cpuCount;
      const lessMemory = t.memoryBytes < ratio * s.memoryBytes;
      if (!fewerCores && !lessMemory) return [];
      const parts = [fewerCores ? `${t.cpuCount} cores instead of ${s.cpuCount}` : null, lessMemory ? `${gib(t.memoryBytes)} of memory instead of ${gib(s.memoryBytes)}` : null].filter(Boolean);
      return [{ subject: `node=${ctx.snap.target!.hostname}`, message: `The target has ${parts.join(' and ')}.`, evidence: { sourceCpu: s.cpuCount, targetCpu: t.cpuCount, sourceMemoryBytes: s.memoryBytes, targetMemoryBytes: t.memoryBytes, memoryRatio: ratio } }];
    },
    fix: { kind: 'manual', guidance: 'Size the target up, or acknowledge this warning to record that a degraded service after failover is accepted.' },
  },
];
