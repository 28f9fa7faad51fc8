// stopInstance: stop a server cleanly so that writes stop (a controlled switchover stops the
// primary before it promotes the standby). `pg_ctl stop -m fast` rolls back open transactions
// and writes a shutdown checkpoint; a primary's WAL senders send everything up to it to the
// connected standbys before the server exits. A server that is not running is reported as such
// (desired state). Either way the result carries the control file's last checkpoint location,
// so the caller can check a standby received the last record.
import path from 'node:path';
import { pgStopArgsSchema, type PgStopArgs, type PgStopResult } from '@tandem/protocol';
import { parseInput, type PgContext, PostgresReplicationError, runnerOf } from './context.ts';
import { bin, exists, findBinDir, runningPostmaster } from './datadir.ts';
import { runAsOk } from './run.ts';
import { stopServer } from './server.ts';
import { dataDirOwner } from './users.ts';

export type StopInput = PgStopArgs;
export type StopResult = PgStopResult;

/** The fields of pg_controldata output the stop result reports. */
export function controlState(controldata: string): { clusterState: string | null; checkpointLsn: string | null; timeline: number | null } {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(controldata)?.[1]?.trim() ?? null;
  const tli = field("Latest checkpoint's TimeLineID");
  return {
    clusterState: field('Database cluster state'),
    checkpointLsn: field('Latest checkpoint location'),
    timeline: tli !== null && /^\d+$/.test(tli) ? Number(tli) : null,
  };
}

export async function stopInstance(input: StopInput, ctx?: PgContext): Promise<StopResult> {
  const a = parseInput(pgStopArgsSchema, input, 'stop');
  const started = Date.now();
  if (!(await exists(path.join(a.dataDir, 'PG_VERSION')))) throw new PostgresReplicationError(`${a.dataDir} is not a PostgreSQL data directory`, 'invalid-input');
  const owner = await dataDirOwner(runnerOf(ctx), a.dataDir);
  const pm = await runningPostmaster(a.dataDir);
  const binDir = await findBinDir({ hint: a.binDir, pid: pm?.pid, dataDir: a.dataDir });
  if (pm) await stopServer(ctx, owner, binDir, a.dataDir, a.mode, Math.max(1, Math.floor(a.timeoutMs / 1000)));
  const cd = await runAsOk(ctx, owner, bin(binDir, 'pg_controldata'), [a.dataDir], { timeoutMs: 30_000 });
  return { dataDir: a.dataDir, stopped: pm !== null, alreadyStopped: pm === null, ...controlState(cd.stdout), durationMs: Date.now() - started };
}
