import type { CheckDef } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { GiB, gib, targetDataPaths, volumeHolding } from './failover-util.ts';

// The `drill` family (catalogue §2.13): can a test failover run on the target? In place, it
// snapshots the target volumes, starts the application and reverts; meanwhile incoming replication
// is held on the target for the length of the drill.

const snapshotFeatures = ['snapshots', 'lvm-thin', 'zfs', 'btrfs', 'vss'];
const canSnapshot = (v: { fileSystem: string | null; features: string[] }) => v.features.some((f) => snapshotFeatures.includes(f)) || v.fileSystem === 'zfs' || v.fileSystem === 'btrfs';

/** Target volumes holding replicated data (once each), with the target paths on them. */
function dataVolumes(snap: FactsSnapshot) {
  const vols = snap.target!.volumes!;
  const out = new Map<string, { volume: (typeof vols)[number]; paths: string[] }>();
  for (const p of targetDataPaths(snap)) {
    const v = volumeHolding(vols, p);
    if (!v) continue;
    const entry = out.get(v.mountPoint) ?? { volume: v, paths: [] };
    entry.paths.push(p);
    out.set(v.mountPoint, entry);
  }
  return [...out.values()];
}

export const drillChecks: CheckDef[] = [
  {
    id: 'drill.isolation-unavailable',
    family: 'drill',
    title: 'In-place drill impossible',
    detects: 'An in-place test failover (snapshot the target volumes, start the application, revert) cannot run: a target volume holding replicated data cannot take snapshots, or the data sits on the system volume, which cannot be reverted.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P', 'T.vol'],
    when: (snap) => snap.pair.drill.mode === 'in-place',
    evaluate: (ctx) =>
      dataVolumes(ctx.snap).flatMap(({ volume, paths }) => {
        if (volume.system) return [{ subject: `volume=${volume.mountPoint}`, message: `${paths.join(', ')} sit on the system volume ${volume.mountPoint} of the target, which a drill cannot revert.`, evidence: { volume: volume.mountPoint, paths, cause: 'system-volume' } }];
        if (!canSnapshot(volume)) return [{ subject: `volume=${volume.mountPoint}`, message: `The target volume ${volume.mountPoint} (${volume.fileSystem ?? 'unknown file system'}) cannot take snapshots.`, evidence: { volume: volume.mountPoint, paths, cause: 'no-snapshots', fileSystem: volume.fileSystem, features: volume.features } }];
        return [];
      }),
    fix: { kind: 'manual', guidance: 'Move the data off the system volume, or put it on snapshot-capable storage (VSS, LVM thin, ZFS or btrfs), or set the pair’s drill mode to `clone`.' },
    legacy: ['HP: snapshot tooling and space on the target'],
  },
  {
    id: 'drill.space-insufficient',
    family: 'drill',
    title: 'Too little room to hold a drill',
    detects: 'The snapshot reserve, or the free space that holds incoming replication on the target, cannot absorb the source’s change rate for the longest drill (4 h by default).',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P', 'T.vol', 'T.os', 'R.changeRate'],
    evaluate: (ctx) => {
      const hours = ctx.snap.pair.drill.maxHours;
      const needed = Math.ceil((ctx.snap.replication.changeRateBytesPerDay! * hours) / 24);
      return dataVolumes(ctx.snap).flatMap(({ volume }) => {
        const reserve = volume.snapshotReserveBytes ?? null;
        if (reserve !== null && volume.features.includes('vss')) {
          if (reserve >= needed) return [];
          return [{ subject: `volume=${volume.mountPoint}`, message: `The snapshot reserve of ${volume.mountPoint} on the target (${gib(reserve)}) cannot hold ${hours} h of changes (${gib(needed)}).`, evidence: { volume: volume.mountPoint, kind: 'reserve', reserveBytes: reserve, freeBytes: volume.freeBytes, neededBytes: needed, hours } }];
        }
        if (volume.freeBytes >= needed) return [];
        return [{ subject: `volume=${volume.mountPoint}`, message: `${volume.mountPoint} on the target has ${gib(volume.freeBytes)} free, less than the ${gib(needed)} that ${hours} h of changes need during a drill.`, evidence: { volume: volume.mountPoint, kind: 'free', freeBytes: volume.freeBytes, neededBytes: needed, hours } }];
      });
    },
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (ctx, f) => {
        const e = f.evidence as { volume: string; kind: 'reserve' | 'free'; reserveBytes?: number; freeBytes: number; neededBytes: number };
        // Whole GiB, at least what a drill needs.
        const size = Math.ceil(e.neededBytes / GiB) * GiB;
        if (e.kind !== 'reserve' || ctx.snap.target!.os!.family !== 'windows') return { guidance: 'Add space to the target volume (or move the replication queue to a larger one), shorten the pair’s maximum drill duration, or run drills in `clone` mode.' };
        if (e.freeBytes < size - e.reserveBytes!) return { guidance: `Growing the shadow storage of ${e.volume} to ${gib(size)} needs ${gib(size - e.reserveBytes!)} more free space than the volume has: add space first.` };
        return { plan: [{ action: 'storage.resize-shadow', node: 'target', volume: e.volume, sizeBytes: size, description: `Resize the shadow storage of ${e.volume} on the target to ${gib(size)}`, before: gib(e.reserveBytes!), after: gib(size) }] };
      },
    },
    legacy: ['HP: snapshot tooling and space on the target'],
  },
];
