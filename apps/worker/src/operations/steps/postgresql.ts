// The PostgreSQL steps of failover and failback runbooks: promote a standby, make a side a
// streaming standby of the other (pg_rewind when possible, else a base backup), wait until a
// standby has replayed everything its primary wrote, and stop an instance so writes stop.
// Each is desired state: a step run again (after a crash, or on a pair already in that state)
// finds the work done and says so instead of doing it twice.
//
// Which instance is where comes from the pair's database link (settings.connection.database).
// Addresses: the source's, as the target reaches it, is `sourceAddress`; the target's, as the
// source reaches it, is the pair's route (the address prepare-source already lets replicate).
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import type { Side, StepParams } from '@tandem/engine';
import { postgresqlCommandTimeoutMs, type ActionInput, type PgReplicationStatus } from '@tandem/protocol';
import { PG_REPLICATION_USER, pgSlotName } from '../steps.ts';
import { command, pairKey, sideOf, sleep, StepError, type StepContext } from './context.ts';

const other = (side: Side): Side => (side === 'source' ? 'target' : 'source');

// The same derivation as enabling uses (steps.ts): the role's password follows from the pair key.
function pgPassword(ctx: StepContext): string {
  return createHmac('sha256', Buffer.from(pairKey(ctx), 'base64')).update('postgresql-replication').digest('base64url');
}

interface PgEnd {
  dataDir: string;
  port: number;
  /** This side's address as the other side reaches it. */
  address: string;
  hostname: string;
}

function pgEnd(ctx: StepContext, side: Side): PgEnd {
  const db = ctx.settings.connection.database;
  if (!db) throw new StepError('This pair does not say which PostgreSQL instances to use; edit its configuration');
  const hostname = sideOf(ctx, side).hostname;
  return side === 'source'
    ? { dataDir: db.sourceDataDir, port: db.sourcePort, address: db.sourceAddress, hostname }
    : { dataDir: db.targetDataDir, port: db.targetPort, address: ctx.settings.connection.route, hostname };
}

/** "16/B374D848" as a number of bytes (LSNs are 64-bit). */
export function lsnValue(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) throw new StepError(`Not a WAL position: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

const mib = (bytes: bigint) => `${(Number(bytes) / (1024 * 1024)).toFixed(1)} MiB`;

/** The instance's replication status; a poll, so never answered from an agent's memory of an earlier one. */
function status(ctx: StepContext, side: Side, deadlineMs?: number): Promise<PgReplicationStatus> {
  const args = { instance: { dataDir: pgEnd(ctx, side).dataDir } };
  return command(ctx, side, 'postgresql.status', args, { timeoutMs: postgresqlCommandTimeoutMs('postgresql.status', args), fresh: true, ...(deadlineMs === undefined ? {} : { deadlineMs }) });
}

/** Desired state, the instance serves as the primary: a primary stays one (promoted: false, alreadyPrimary: true), a stopped one is started first (started: true). */
export async function pgPromote(ctx: StepContext, { side }: StepParams['postgresql.promote']) {
  const args = { instance: { dataDir: pgEnd(ctx, side).dataDir }, timeoutMs: 60_000 };
  return command(ctx, side, 'postgresql.promote', args, postgresqlCommandTimeoutMs('postgresql.promote', args));
}

/** Streaming from the other side, with the pair's slot: nothing to do. */
function followsAlready(st: PgReplicationStatus, primary: PgEnd, slot: string): boolean {
  const r = st.standby?.receiver;
  return st.role === 'standby' && r?.status === 'streaming' && r.senderHost === primary.address && r.senderPort === primary.port && r.slotName === slot;
}

export async function pgFollow(ctx: StepContext, { side }: StepParams['postgresql.follow']) {
  const me = pgEnd(ctx, side);
  const primarySide = other(side);
  const primary = pgEnd(ctx, primarySide);
  const slotName = pgSlotName(ctx.pair.id);
  // A stopped instance or one that does not answer is simply not following yet.
  const before = await status(ctx, side).catch(() => null);
  if (before && followsAlready(before, primary, slotName)) return { alreadyFollowing: true, status: before };

  // The new primary must let this side replicate: the role (it is there, replicated from the old
  // primary), the slot and pg_hba.conf, as enabling prepared the source.
  if (isIP(me.address) === 0) throw new StepError(`${me.hostname}'s address ${me.address} is not an IP address; PostgreSQL's access rules need one`);
  const password = pgPassword(ctx);
  const db = ctx.settings.connection.database!;
  const prepareArgs: ActionInput<'postgresql.prepare-source'> = {
    dataDir: primary.dataDir,
    replicationUser: PG_REPLICATION_USER,
    password,
    slotName,
    targetAddress: me.address,
    allowRestart: db.allowSourceRestart,
    allowRewind: true,
  };
  const prepared = await command(ctx, primarySide, 'postgresql.prepare-source', prepareArgs, postgresqlCommandTimeoutMs('postgresql.prepare-source', prepareArgs));
  if (prepared.inRecovery) throw new StepError(`PostgreSQL on ${primary.hostname} is still a standby: promote it before ${me.hostname} can follow it`);
  if (!prepared.ready) {
    const pending = prepared.changedSettings.filter((c) => c.needsRestart).map((c) => `${c.name} = ${c.to}`);
    throw new StepError(
      prepared.restartRequired
        ? `PostgreSQL on ${primary.hostname} must restart for ${pending.join(', ') || 'its replication settings'}: restart it (or allow Tandem to restart it in the pair's connection settings), then run this again`
        : `PostgreSQL on ${primary.hostname} is not ready to feed a standby${prepared.warnings.length ? `: ${prepared.warnings.join('; ')}` : ''}`,
    );
  }

  // pg_rewind when the old data allows it (checksums or wal_log_hints), else a fresh base backup;
  // either way the old primary is stopped first, so it never writes beside the new one.
  const followArgs: ActionInput<'postgresql.rewind-or-reclone'> = {
    dataDir: me.dataDir,
    port: me.port,
    source: { host: primary.address, port: primary.port },
    replicationUser: PG_REPLICATION_USER,
    password,
    slotName,
    mode: 'auto',
    // The pair's slot from this side's time as primary would keep WAL here for good.
    dropSlots: [slotName],
    // ≤ 20 min keeps a failed pg_rewind plus a base backup inside one agent command.
    timeoutMs: 20 * 60_000,
  };
  const followed = await command(ctx, side, 'postgresql.rewind-or-reclone', followArgs, postgresqlCommandTimeoutMs('postgresql.rewind-or-reclone', followArgs));
  if (!followed.streaming) throw new StepError(`PostgreSQL on ${me.hostname} started as a standby but is not streaming from ${primary.address}:${primary.port}; see ${followed.logFile}`);
  return { alreadyFollowing: false, prepared: { slot: prepared.slot, hba: prepared.hba.changed, warnings: prepared.warnings }, followed };
}

export async function pgWaitCaughtUp(ctx: StepContext, { side, timeoutSeconds }: StepParams['postgresql.wait-caught-up']) {
  const me = pgEnd(ctx, side);
  const primary = pgEnd(ctx, other(side));
  const started = ctx.now().getTime();
  const deadline = started + timeoutSeconds * 1000;
  for (;;) {
    // The primary first: the standby must have replayed what the primary had written when asked.
    const p = await status(ctx, other(side));
    if (p.role !== 'primary' || !p.primary) throw new StepError(`PostgreSQL on ${primary.hostname} is not a primary`);
    const s = await status(ctx, side);
    if (s.role !== 'standby' || !s.standby) throw new StepError(`PostgreSQL on ${me.hostname} is not a standby`);
    const target = lsnValue(p.primary.currentLsn);
    const replayed = s.standby.replayLsn ? lsnValue(s.standby.replayLsn) : null;
    if (replayed !== null && replayed >= target) {
      return { caughtUp: true, primaryLsn: p.primary.currentLsn, replayLsn: s.standby.replayLsn, waitedMs: ctx.now().getTime() - started };
    }
    if (ctx.now().getTime() >= deadline) {
      const behind = replayed === null ? 'has replayed nothing yet' : `is ${mib(target - replayed)} behind (replayed ${s.standby.replayLsn}, primary at ${p.primary.currentLsn})`;
      const receiver = s.standby.receiver ? `its WAL receiver is ${s.standby.receiver.status}` : 'it has no WAL receiver';
      throw new StepError(`After ${timeoutSeconds} s the standby on ${me.hostname} ${behind}; ${receiver}`);
    }
    await sleep(500);
  }
}

/**
 * Stops the instance (fast: open transactions roll back, a shutdown checkpoint is written, and a
 * primary's WAL senders hand everything up to it to the standbys before it exits). When the other
 * side is a standby, the step then checks it received that last record: a switchover promotes it
 * next, and nothing written here may be lost.
 */
export async function pgStop(ctx: StepContext, { side }: StepParams['postgresql.stop']) {
  const me = pgEnd(ctx, side);
  const args = { dataDir: me.dataDir, mode: 'fast' as const };
  const stopped = await command(ctx, side, 'postgresql.stop', args, postgresqlCommandTimeoutMs('postgresql.stop', args));
  if (!stopped.checkpointLsn || !/^shut down$/.test(stopped.clusterState ?? '')) return { ...stopped, standby: null };
  // Only a primary shut down cleanly has a last record a standby must hold.
  const last = lsnValue(stopped.checkpointLsn);
  const standbyEnd = pgEnd(ctx, other(side));
  const deadline = ctx.now().getTime() + 30_000;
  for (;;) {
    const s = await status(ctx, other(side)).catch(() => null);
    // Not running, or not a standby: there is no standby of this instance to check.
    if (!s || s.role !== 'standby' || !s.standby) return { ...stopped, standby: null };
    const received = s.standby.receiveLsn ? lsnValue(s.standby.receiveLsn) : null;
    if (received !== null && received > last) return { ...stopped, standby: { receivedLsn: s.standby.receiveLsn, caughtUp: true } };
    // With this side stopped, a standby that no longer streams will receive nothing more.
    if (s.standby.receiver?.status !== 'streaming' || ctx.now().getTime() >= deadline) {
      throw new StepError(
        `PostgreSQL on ${me.hostname} is stopped, but the standby on ${standbyEnd.hostname} did not receive its last record (${stopped.checkpointLsn}; received ${s.standby.receiveLsn ?? 'nothing'}): promoting it now would lose writes. Start ${me.hostname} again and check replication`,
      );
    }
    await sleep(500);
  }
}

/**
 * replication.drain for a PostgreSQL pair (graceful failover): wait until the standby (target)
 * has replayed what the primary (source) had written, up to the deadline; then abort or go on,
 * recording the lag at cut-over as the file drain does. A source that does not answer cannot
 * drain: the lag is the standby's own estimate, else the last sample's.
 */
export async function pgDrain(ctx: StepContext, { timeoutSeconds, onTimeout }: StepParams['replication.drain']) {
  const deadline = ctx.now().getTime() + timeoutSeconds * 1000;
  const source = pgEnd(ctx, 'source');
  for (;;) {
    let primaryLsn: string;
    try {
      // A source whose agent is gone cannot drain: not waited for (the failover goes on without it).
      const p = await status(ctx, 'source', 0);
      if (p.role !== 'primary' || !p.primary) throw new StepError(`PostgreSQL on ${source.hostname} is not a primary`);
      primaryLsn = p.primary.currentLsn;
    } catch (err) {
      const s = await status(ctx, 'target').catch(() => null);
      // Stopped already (the graceful failover stopped its service): its last record tells
      // whether the standby has everything. postgresql.stop on a stopped server only reads it.
      if (s?.standby?.receiveLsn && /\(not-running\)/.test(err instanceof Error ? err.message : '')) {
        const args = { dataDir: source.dataDir, mode: 'fast' as const };
        const last = await command(ctx, 'source', 'postgresql.stop', args, postgresqlCommandTimeoutMs('postgresql.stop', args)).catch(() => null);
        if (last?.alreadyStopped && last.clusterState === 'shut down' && last.checkpointLsn && lsnValue(s.standby.receiveLsn) > lsnValue(last.checkpointLsn)) {
          return { drained: true, source: 'agent', lagAtCutoverSeconds: 0, lagBytes: 0, primaryLsn: last.checkpointLsn, receiveLsn: s.standby.receiveLsn };
        }
      }
      const sample = s?.standby ? null : await ctx.tx((db) => db.replicationSample.findFirst({ where: { pairId: ctx.pair.id }, orderBy: { at: 'desc' } }));
      const lag = s?.standby?.lagSeconds ?? sample?.lagSeconds ?? null;
      return {
        drained: false,
        source: s?.standby ? 'standby' : 'sample',
        lagAtCutoverSeconds: lag,
        warning: `PostgreSQL on ${source.hostname} did not answer (${err instanceof Error ? err.message : String(err)}); the lag at cut-over is ${s?.standby ? "the standby's estimate" : 'from the last sample'}${lag === null ? ' (unknown)' : ` (${lag} s)`}`,
      };
    }
    const s = await status(ctx, 'target');
    if (s.role !== 'standby' || !s.standby) throw new StepError(`PostgreSQL on ${pgEnd(ctx, 'target').hostname} is not a standby`);
    const behind = s.standby.replayLsn ? lsnValue(primaryLsn) - lsnValue(s.standby.replayLsn) : null;
    if (behind !== null && behind <= 0n) return { drained: true, source: 'agent', lagAtCutoverSeconds: 0, lagBytes: 0, primaryLsn, replayLsn: s.standby.replayLsn };
    if (ctx.now().getTime() >= deadline) {
      const left = behind === null ? 'nothing replayed yet' : `${mib(behind)} not yet replayed`;
      if (onTimeout === 'abort') throw new StepError(`The standby on ${pgEnd(ctx, 'target').hostname} did not catch up within ${timeoutSeconds} s: ${left}`);
      return {
        drained: false,
        source: 'agent',
        lagAtCutoverSeconds: s.standby.lagSeconds,
        lagBytes: behind === null ? null : Number(behind),
        warning: `The standby did not catch up within ${timeoutSeconds} s; the failover went on with ${left} (lost on the target)`,
      };
    }
    await sleep(500);
  }
}
