import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { PostgresFacts } from '../node-facts.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import type { FixAction } from '../actions.ts';
import { mapToTarget, sideNode, targetPath, under, volumeHolding } from '../apps/common.ts';
import { instanceOf, majorOf, minorOf, pairSlotName, pg, replicationRole, settingsOf, versionOf } from '../apps/postgres.ts';
import { postgresParityChecks, postgresReferencedFiles } from './postgres-parity.ts';

// The `postgres` family (catalogue §3.2): version and build parity, data paths on the target,
// the target's passivity and standby state, and what the source needs for streaming. Settings
// parity, files, extensions, HA managers and the logical method are in postgres-parity.ts.

const base: Pick<CheckDef, 'family' | 'appliesTo'> = { family: 'postgres', appliesTo: ['postgres'] };

/** The paths a physical copy needs on the target: data directory, external WAL directory, tablespaces. */
export function postgresDataPaths(snap: FactsSnapshot, s: PostgresFacts): { role: string; source: string; target: string }[] {
  const db = snap.pair.database;
  const extra = db ? [{ from: s.dataDir, to: db.targetDataDir }] : [];
  const out = [{ role: 'data directory', source: s.dataDir }];
  if (s.walDir && !under(s.walDir, s.dataDir)) out.push({ role: 'WAL directory', source: s.walDir });
  for (const t of s.tablespaces) out.push({ role: `tablespace ${t.name}`, source: t.location });
  return out.map((p) => ({ ...p, target: mapToTarget(snap, p.source, extra) }));
}

const osUserName = (s: PostgresFacts) => s.osUser?.name ?? 'postgres';

function pathMissing(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const t = sideNode(ctx.snap, 'target');
  return postgresDataPaths(ctx.snap, s)
    .filter((p) => !targetPath(t, p.target).exists)
    .map((p) => ({
      subject: `path=${p.target}`,
      message: `The ${p.role} ${p.target} does not exist on the target ${t.hostname} (source: ${p.source}).`,
      evidence: { role: p.role, sourcePath: p.source, targetPath: p.target },
    }));
}

function pathOwnership(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const tf = pg(ctx.snap, 'target');
  const t = sideNode(ctx.snap, 'target');
  const user = osUserName(tf.osUser ? tf : s);
  const out: FindingDraft[] = [];
  for (const p of postgresDataPaths(ctx.snap, s)) {
    const fact = targetPath(t, p.target);
    if (!fact.exists) continue;
    const tooOpen = fact.mode !== null && (fact.mode & 0o027) !== 0;
    if (fact.owner !== user || tooOpen) {
      out.push({
        subject: `path=${p.target}`,
        message: `The ${p.role} ${p.target} on the target is owned by ${fact.owner ?? 'an unknown user'} with mode ${fact.mode === null ? 'unknown' : fact.mode.toString(8).padStart(4, '0')}; PostgreSQL needs it owned by ${user} and at most 0750.`,
        evidence: { path: p.target, owner: fact.owner, mode: fact.mode, wantOwner: user },
      });
    }
  }
  // The file method copies numeric owners: the account must have the same ids on both sides.
  if (ctx.snap.pair.method === 'file' && s.osUser && tf.osUser && (s.osUser.uid !== tf.osUser.uid || s.osUser.gid !== tf.osUser.gid)) {
    out.push({
      subject: `user=${s.osUser.name}`,
      message: `The PostgreSQL OS user has uid/gid ${s.osUser.uid}/${s.osUser.gid} on the source but ${tf.osUser.uid}/${tf.osUser.gid} on the target; replicated files would belong to the wrong account.`,
      evidence: { source: s.osUser, target: tf.osUser },
    });
  }
  return out;
}

function postgresUnit(ctx: CheckContext): string | null {
  const svc = ctx.node!.services!;
  const running = svc.find((x) => /postgres/i.test(x.name) && (x.state === 'running' || x.state === 'starting'));
  if (running) return running.name;
  const listed = ctx.snap.pair.services.find((x) => /postgres/i.test(x.name) && svc.some((y) => y.name === x.name && y.state !== 'not-found'));
  return listed?.name ?? null;
}

function standbyState(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const t = pg(ctx.snap, 'target');
  const host = ctx.node!.hostname;
  const prot = ctx.snap.pair.protected;
  if (!t.running) {
    return prot ? [{ subject: 'standby=state', message: `PostgreSQL is not running on the target ${host}, so nothing replays the source's WAL.`, evidence: { running: false } }] : [];
  }
  if (t.inRecovery === null) throw new Error('the target did not say whether it is in recovery');
  // Before the first enable the target need not be a standby yet: enabling clones one.
  if (!t.inRecovery) {
    return prot ? [{ subject: 'standby=state', message: `The target ${host} is not in recovery: it runs as a primary of its own instead of a standby of the source.`, evidence: { inRecovery: false } }] : [];
  }
  const out: FindingDraft[] = [];
  if (s.systemId && t.systemId && s.systemId !== t.systemId) {
    out.push({ subject: 'standby=system-identifier', message: `The target's system identifier ${t.systemId} differs from the source's ${s.systemId}: it is a copy of another cluster.`, evidence: { source: s.systemId, target: t.systemId } });
  }
  const db = ctx.snap.pair.database;
  if (db && t.primaryConninfo !== null) {
    const hostOk = new RegExp(`(^|\\s)host=['"]?${db.sourceAddress.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]?(\\s|$)`).test(t.primaryConninfo);
    const portOk = new RegExp(`(^|\\s)port=['"]?${db.sourcePort}['"]?(\\s|$)`).test(t.primaryConninfo) || (db.sourcePort === 5432 && !/(^|\s)port=/.test(t.primaryConninfo));
    if (!hostOk || !portOk) {
      out.push({ subject: 'standby=upstream', message: `The target follows another upstream than the source ${db.sourceAddress}:${db.sourcePort}.`, evidence: { primaryConninfo: t.primaryConninfo.replace(/password=\S+/g, 'password=…') } });
    }
  }
  if (s.timeline !== null && t.timeline !== null && t.timeline > s.timeline) {
    out.push({ subject: 'standby=timeline', message: `The target is on timeline ${t.timeline}, ahead of the source's ${s.timeline}: it was promoted at some point and has diverged.`, evidence: { source: s.timeline, target: t.timeline } });
  }
  return out;
}

const walLevelRank: Record<string, number> = { minimal: 0, archive: 1, hot_standby: 1, replica: 1, logical: 2 };

function walSettings(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const set = settingsOf(s);
  const out: FindingDraft[] = [];
  const logical = ctx.snap.pair.method === 'logical';
  const level = set.get('wal_level')?.setting ?? 'replica';
  if ((walLevelRank[level] ?? 0) < (logical ? 2 : 1)) {
    out.push({ subject: 'setting=wal_level', message: `wal_level on the source is ${level}; ${logical ? 'logical' : 'replica'} is needed.`, evidence: { wal_level: level, needed: logical ? 'logical' : 'replica' } });
  }
  const targetAddrs = new Set([ctx.snap.pair.route.address, ...ctx.snap.pair.ipMap.map((m) => m.target).filter((a): a is string => !!a)]);
  const others = s.replication.filter((r) => !r.clientAddress || !targetAddrs.has(r.clientAddress.replace(/\/\d+$/, ''))).length;
  const senders = Number(set.get('max_wal_senders')?.setting ?? '10');
  if (senders - others < 2) {
    out.push({ subject: 'setting=max_wal_senders', message: `max_wal_senders on the source is ${senders} with ${others} in use by others: no room for the target plus a spare.`, evidence: { max_wal_senders: senders, inUse: others, needed: others + 2 } });
  }
  const ours = pairSlotName(ctx.snap.pair.id);
  const otherSlots = s.slots.filter((x) => x.name !== ours).length;
  const slots = Number(set.get('max_replication_slots')?.setting ?? '10');
  if (slots - otherSlots < 2) {
    out.push({ subject: 'setting=max_replication_slots', message: `max_replication_slots on the source is ${slots} with ${otherSlots} taken by other slots: no room for the target plus a spare.`, evidence: { max_replication_slots: slots, inUse: otherSlots, needed: otherSlots + 2 } });
  }
  return out;
}

/** Whether an IPv4 address lies in a pg_hba address (CIDR, plain address, or all). */
function hbaCovers(entry: string | null, addr: string): boolean {
  if (!entry) return false;
  if (entry === 'all' || entry === '0.0.0.0/0') return true;
  const [net, bits] = entry.split('/');
  const v4 = (a: string) => (/^\d+\.\d+\.\d+\.\d+$/.test(a) ? a.split('.').reduce((n, o) => n * 256 + Number(o), 0) : null);
  const a = v4(addr);
  const n = v4(net ?? '');
  if (a === null || n === null) return entry === addr || net === addr;
  const b = bits === undefined ? 32 : Number(bits);
  const mask = b === 0 ? 0 : 2 ** 32 - 2 ** (32 - b);
  return (a & mask) >>> 0 === (n & mask) >>> 0;
}

function replicationAccess(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const addr = ctx.snap.pair.route.address;
  const logical = ctx.snap.pair.method === 'logical';
  const suitable = s.roles.filter((r) => r.canLogin && (r.replication || r.superuser)).map((r) => r.name);
  const out: FindingDraft[] = [];
  if (suitable.length === 0) {
    out.push({ subject: `role=${replicationRole}`, message: 'No role on the source can log in with the REPLICATION attribute, so the target cannot stream from it.', evidence: { replicationRoles: [] } });
  }
  const names = new Set([...suitable, replicationRole]);
  const rolesOf = (u: string) => (u.startsWith('+') ? s.roles.filter((r) => r.memberOf.includes(u.slice(1))).map((r) => r.name) : [u]);
  // pg_hba is first match: the first host rule for this address and a suitable user decides.
  const first = s.hba.find(
    (h) =>
      h.type.startsWith('host') &&
      h.database.some((d) => (logical ? d !== 'replication' : d === 'replication')) &&
      h.user.some((u) => u === 'all' || rolesOf(u).some((r) => names.has(r))) &&
      hbaCovers(h.address, addr),
  );
  if (!first || first.method === 'reject') {
    out.push({
      subject: `hba=${addr}`,
      message: first ? `pg_hba.conf on the source rejects replication connections from ${addr}.` : `pg_hba.conf on the source has no rule admitting replication connections from the target's address ${addr}.`,
      evidence: { address: addr, rule: first ?? null },
    });
  }
  return out;
}

function slotRisk(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const set = settingsOf(s);
  const ours = pairSlotName(ctx.snap.pair.id);
  const logical = ctx.snap.pair.method === 'logical';
  const out: FindingDraft[] = [];
  const has = logical ? s.slots.some((x) => x.type === 'logical') : s.slots.some((x) => x.name === ours);
  if (!has) out.push({ subject: `slot=${ours}`, message: 'No replication slot on the source retains WAL for the target; a short outage of the target could force a re-seed.', evidence: { slot: ours, exists: false } });
  const cap = set.get('max_slot_wal_keep_size');
  if (cap && Number(cap.setting) < 0) {
    out.push({ subject: 'setting=max_slot_wal_keep_size', message: 'Replication slots on the source retain WAL without a cap (max_slot_wal_keep_size = -1): a long target outage could fill the source disk.', evidence: { max_slot_wal_keep_size: cap.setting } });
  }
  for (const x of s.slots) {
    if (x.name === ours || x.active || x.walStatus === 'lost' || (logical && x.type === 'logical')) continue;
    out.push({ subject: `slot=${x.name}`, message: `The inactive slot ${x.name} on the source retains WAL for a standby that is gone.`, evidence: { slot: x.name, active: false, walStatus: x.walStatus } });
  }
  return out;
}

function slotFix(ctx: CheckContext, f: FindingDraft) {
  const s = pg(ctx.snap, 'source');
  const inst = instanceOf(ctx.snap, 'source', s);
  const ours = pairSlotName(ctx.snap.pair.id);
  if (f.subject === `slot=${ours}`) {
    return { plan: [{ action: 'app', node: 'source', app: 'postgres', op: 'create-slot', params: { ...inst, slot: ours, type: ctx.snap.pair.method === 'logical' ? 'logical' : 'physical' }, description: `Create the replication slot ${ours} on the source`, before: 'no slot', after: ours }] satisfies FixAction[] };
  }
  if (f.subject === 'setting=max_slot_wal_keep_size') {
    // Half the free space of the volume holding pg_wal, in whole GiB, at least 1 GiB.
    const vol = volumeHolding(sideNode(ctx.snap, 'source').volumes!, s.walDir ?? s.dataDir);
    const GiB = 1024 ** 3;
    const gib = Math.max(1, Math.floor((vol ? vol.freeBytes / 2 : GiB) / GiB));
    return {
      plan: [{ action: 'app', node: 'source', app: 'postgres', op: 'alter-system', params: { ...inst, settings: { max_slot_wal_keep_size: `${gib}GB` }, reload: true }, description: `Cap the WAL slots may retain on the source at ${gib}GB (half the free space of ${vol?.mountPoint ?? 'its volume'}), then reload`, before: '-1', after: `${gib}GB` }] satisfies FixAction[],
    };
  }
  return { guidance: `Slot ${f.subject.slice(5)} is inactive and keeps WAL on the source. If no standby will use it again, drop it by hand (\`SELECT pg_drop_replication_slot('${f.subject.slice(5)}')\`); Tandem never drops slots, because that cannot be undone.` };
}

export const postgresChecks: CheckDef[] = [
  {
    ...base,
    id: 'postgres.major-version-mismatch',
    title: 'PostgreSQL major versions differ',
    detects: 'Physical methods (file, streaming) need the same major release on both sides; the logical method only needs the target at least as new as the source.',
    scope: ['pair'],
    methods: ['file', 'streaming', 'logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres', 'P'],
    evaluate: (ctx) => {
      const sm = majorOf(versionOf(pg(ctx.snap, 'source'), 'source'));
      const tm = majorOf(versionOf(pg(ctx.snap, 'target'), 'target'));
      const bad = ctx.snap.pair.method === 'logical' ? Number(tm) < Number(sm) : sm !== tm;
      return bad ? [{ subject: 'version=major', message: `The source runs PostgreSQL ${sm} and the target ${tm}${ctx.snap.pair.method === 'logical' ? ', which is older' : ''}.`, evidence: { source: sm, target: tm, method: ctx.snap.pair.method } }] : [];
    },
    fix: { kind: 'manual', guidance: 'Install the source’s PostgreSQL major release on the target (for the logical method, the same or a newer one), then validate again. Tandem does not install packages.' },
  },
  {
    ...base,
    id: 'postgres.minor-version-older-on-target',
    title: 'Target runs an older PostgreSQL minor release',
    detects: 'A standby should run the same minor release as its primary or a newer one; an older one may not replay WAL records written by fixes it lacks.',
    scope: ['pair'],
    methods: ['file', 'streaming'],
    severity: 'warning',
    facts: ['S.app.postgres', 'T.app.postgres'],
    evaluate: (ctx) => {
      const sv = versionOf(pg(ctx.snap, 'source'), 'source');
      const tv = versionOf(pg(ctx.snap, 'target'), 'target');
      if (majorOf(sv) !== majorOf(tv) || minorOf(tv) >= minorOf(sv)) return [];
      return [{ subject: 'version=minor', message: `The target runs ${majorOf(tv)}.${minorOf(tv)}, older than the source's ${majorOf(sv)}.${minorOf(sv)}.`, evidence: { source: sv, target: tv } }];
    },
    fix: { kind: 'manual', guidance: 'Update PostgreSQL on the target to the source’s minor release (or newer) first; update the standby before the primary from then on.' },
  },
  {
    ...base,
    id: 'postgres.build-incompatible',
    title: 'PostgreSQL builds are not binary compatible',
    detects: 'Control data that must match for a physical copy differs: CPU architecture and byte order, block and WAL segment sizes, data checksums, identifier and index-key limits.',
    scope: ['pair'],
    methods: ['file', 'streaming'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres', 'S.os', 'T.os'],
    evaluate: (ctx) => {
      const s = pg(ctx.snap, 'source').controlData;
      const t = pg(ctx.snap, 'target').controlData;
      const out: FindingDraft[] = [];
      const sa = sideNode(ctx.snap, 'source').os!.arch;
      const ta = sideNode(ctx.snap, 'target').os!.arch;
      if (sa && ta && sa !== ta) out.push({ subject: 'control=architecture', message: `The source is ${sa} and the target ${ta}: a physical copy cannot be read across architectures.`, evidence: { source: sa, target: ta } });
      for (const field of controlFields) {
        if (s[field] !== undefined && t[field] !== undefined && s[field].trim() !== t[field].trim()) {
          out.push({ subject: `control=${field}`, message: `${field} is ${s[field]} on the source and ${t[field]} on the target.`, evidence: { field, source: s[field], target: t[field] } });
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Use a target with the same architecture and a PostgreSQL build with the same compile-time options, initialised with the same initdb options (data checksums, WAL segment size).' },
  },
  {
    ...base,
    id: 'postgres.collation-library-differs',
    title: 'Collation libraries differ',
    detects: 'The C library or ICU version providing collations differs between source and target; a changed sort order can leave text indexes silently wrong after failover.',
    scope: ['pair'],
    methods: ['file', 'streaming'],
    severity: 'warning',
    facts: ['S.os', 'T.os', 'S.app.postgres', 'T.app.postgres', 'P'],
    evaluate: (ctx) => {
      const out: FindingDraft[] = [];
      const s = pg(ctx.snap, 'source');
      const t = pg(ctx.snap, 'target');
      const sl = s.libcVersion ?? sideNode(ctx.snap, 'source').os!.libc;
      const tl = t.libcVersion ?? sideNode(ctx.snap, 'target').os!.libc;
      if (sl && tl && sl !== tl) out.push({ subject: 'library=libc', message: `The C library is ${sl} on the source and ${tl} on the target.`, evidence: { source: sl, target: tl } });
      if (s.icuVersion && t.icuVersion && s.icuVersion !== t.icuVersion) out.push({ subject: 'library=icu', message: `ICU is ${s.icuVersion} on the source and ${t.icuVersion} on the target.`, evidence: { source: s.icuVersion, target: t.icuVersion } });
      return out;
    },
    fix: { kind: 'manual', guidance: 'Bring the target to the same OS (C library) and ICU release as the source. If that is not possible, plan to REINDEX the indexes on collatable columns after a failover; the runbook notes carry that reminder.' },
  },
  {
    ...base,
    id: 'postgres.data-path-missing-on-target',
    title: 'PostgreSQL data path missing on the target',
    detects: 'The data directory, a tablespace location or an external WAL directory has no matching path on the target, after path mapping.',
    scope: ['target'],
    methods: ['file', 'streaming'],
    severity: 'error',
    facts: ['S.app.postgres', 'S.vol', 'T.vol', 'T.paths', 'P'],
    evaluate: pathMissing,
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (ctx, f) => {
        const src = String(f.evidence.sourcePath);
        const dst = String(f.evidence.targetPath);
        const sVol = volumeHolding(sideNode(ctx.snap, 'source').volumes!, src);
        const tVol = volumeHolding(ctx.node!.volumes!, dst);
        // A dedicated mount on the source must exist on the target too: creating the directory on the
        // root file system instead would fill it.
        if (sVol && !sVol.system && (!tVol || tVol.mountPoint !== mapToTarget(ctx.snap, sVol.mountPoint))) {
          return { guidance: `The source keeps this path on its own file system (${sVol.mountPoint}); the target has no matching mount (${mapToTarget(ctx.snap, sVol.mountPoint)}). Add and mount storage there, then validate again.` };
        }
        const owner = osUserName(pg(ctx.snap, 'source'));
        return { plan: [{ action: 'fs.ensure-dir', node: 'target', path: dst, owner, mode: 0o700, description: `Create ${dst} on the target, owned by ${owner}, mode 0700`, before: 'missing', after: `${owner} 0700` }] };
      },
    },
  },
  {
    ...base,
    id: 'postgres.data-path-ownership',
    title: 'PostgreSQL data path owner or mode wrong on the target',
    detects: 'A target data path is not owned by the postgres OS user or is more open than 0750; with the file method, the postgres user’s uid/gid also differs between source and target.',
    scope: ['target'],
    methods: ['file', 'streaming'],
    severity: 'error',
    facts: ['T.paths', 'S.app.postgres', 'T.app.postgres', 'P'],
    evaluate: pathOwnership,
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (_ctx, f) => {
        if (f.subject.startsWith('user=')) return { guidance: 'Give the PostgreSQL OS user the same uid and gid on both servers (and chown its files on the target accordingly), or add an owner map to the pair. Tandem does not change accounts.' };
        const e = f.evidence as { path: string; owner: string | null; mode: number | null; wantOwner: string };
        return { plan: [{ action: 'fs.ensure-owner', node: 'target', path: e.path, owner: e.wantOwner, mode: 0o700, description: `Make ${e.path} on the target owned by ${e.wantOwner} with mode 0700`, before: `${e.owner ?? '?'} ${e.mode === null ? '?' : e.mode.toString(8).padStart(4, '0')}`, after: `${e.wantOwner} 0700` }] };
      },
    },
  },
  {
    ...base,
    id: 'postgres.target-not-passive',
    title: 'PostgreSQL running over the replicated data on the target',
    detects: 'With the file method, a PostgreSQL server runs on the target over the replicated data directory (postmaster.pid present, port bound) and would corrupt it.',
    scope: ['target'],
    methods: ['file'],
    severity: 'error',
    facts: ['T.app.postgres', 'T.svc', 'P'],
    evaluate: (ctx) => {
      const t = pg(ctx.snap, 'target');
      if (!t.running) return [];
      const unit = postgresUnit(ctx);
      return [{ subject: unit ? `service=${unit}` : `instance=${t.dataDir}`, message: `PostgreSQL is running on the target ${ctx.node!.hostname} over ${t.dataDir}, which replication overwrites.`, evidence: { dataDir: t.dataDir, port: t.port, unit } }];
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const unit = f.evidence.unit as string | null;
        if (!unit) return [];
        return [
          { action: 'service.stop', node: 'target', name: unit, description: `Stop ${unit} on ${ctx.node!.hostname}`, before: 'running', after: 'stopped' },
          { action: 'service.set-startup', node: 'target', name: unit, mode: 'disabled', description: `Keep ${unit} from starting on ${ctx.node!.hostname}`, before: ctx.node!.services!.find((x) => x.name === unit)?.startMode ?? null, after: 'disabled' },
        ];
      },
    },
  },
  {
    ...base,
    id: 'postgres.standby-state-invalid',
    title: 'Target is not a valid standby of the source',
    detects: 'The target is not in recovery, its system identifier differs from the source’s, it follows another upstream, or its timeline has diverged. Before the first enable a target that is not yet a standby is fine: enabling clones one.',
    scope: ['target'],
    methods: ['streaming'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres', 'P'],
    when: (snap) => !snap.pair.failedOver,
    evaluate: standbyState,
    fix: { kind: 'manual', guidance: 'Re-seed the standby from the source (disable protection, then enable it again: the target’s data directory is moved aside and cloned afresh). This replaces the target’s data, so it needs your typed confirmation and is never part of Fix All.' },
  },
  {
    ...base,
    id: 'postgres.wal-settings-insufficient',
    title: 'Source WAL settings cannot serve the target',
    detects: 'wal_level on the source is below replica (streaming) or logical (logical), or max_wal_senders / max_replication_slots leave no room for the target plus a spare.',
    scope: ['source'],
    methods: ['streaming', 'logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'P'],
    evaluate: walSettings,
    fix: { kind: 'manual', guidance: 'Raise the settings on the source (ALTER SYSTEM) and restart it in a maintenance window. Tandem never restarts a production source.' },
  },
  {
    ...base,
    id: 'postgres.replication-access-missing',
    title: 'Target cannot connect to the source for replication',
    detects: 'No role suitable for the target exists on the source (REPLICATION for streaming; publication owner for logical), or pg_hba.conf has no rule admitting it from the target’s route address.',
    scope: ['source'],
    methods: ['streaming', 'logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'P'],
    evaluate: replicationAccess,
    fix: {
      kind: 'auto',
      phase: 5,
      blockedWhileProtected: false,
      privileged: true,
      plan: (ctx, f) => {
        const inst = instanceOf(ctx.snap, 'source', pg(ctx.snap, 'source'));
        if (f.subject.startsWith('role=')) {
          return [{ action: 'app', node: 'source', app: 'postgres', op: 'create-replication-role', params: { ...inst, role: replicationRole, password: 'generate-into-vault' }, description: `Create the login role ${replicationRole} with REPLICATION on the source (password generated into the vault)`, before: 'no replication role', after: replicationRole }];
        }
        const addr = ctx.snap.pair.route.address;
        const cidr = addr.includes(':') ? `${addr}/128` : `${addr}/32`;
        return [{ action: 'app', node: 'source', app: 'postgres', op: 'add-hba-rule', params: { ...inst, type: 'host', database: ctx.snap.pair.method === 'logical' ? 'all' : 'replication', user: replicationRole, address: cidr, method: 'scram-sha-256', reload: true }, description: `Admit ${replicationRole} from ${cidr} in pg_hba.conf on the source, then reload (no restart)`, before: 'no rule', after: `host replication ${replicationRole} ${cidr} scram-sha-256` }];
      },
    },
  },
  {
    ...base,
    id: 'postgres.slot-risk',
    title: 'Replication slot missing, uncapped or left over',
    detects: 'No replication slot retains WAL for the target; or slots have no retention cap (max_slot_wal_keep_size unset), so a long target outage could fill the source disk; or an inactive slot left by an earlier target retains WAL.',
    scope: ['source'],
    methods: ['streaming', 'logical'],
    severity: 'warning',
    facts: ['S.app.postgres', 'S.vol', 'P'],
    evaluate: slotRisk,
    fix: { kind: 'conditional', phase: 5, blockedWhileProtected: false, decide: slotFix },
  },
  ...postgresParityChecks,
];

/** pg_controldata fields that must match for a physical copy. */
const controlFields = [
  'Database block size',
  'Blocks per segment of large relation',
  'WAL block size',
  'Bytes per WAL segment',
  'Maximum length of identifiers',
  'Maximum columns in an index',
  'Maximum size of a TOAST chunk',
  'Size of a large-object chunk',
  'Date/time type storage',
  'Float8 argument passing',
  'Data page checksum version',
];

/** Every target path the postgres checks read (data paths and files named by settings), for the facts request. */
export function postgresTargetPaths(snap: FactsSnapshot, source: PostgresFacts): string[] {
  return [...new Set([...postgresDataPaths(snap, source).map((p) => p.target), ...postgresReferencedFiles(snap, source).map((f) => f.target)])];
}
