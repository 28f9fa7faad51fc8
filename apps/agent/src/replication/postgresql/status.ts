// replicationStatus: one query on either side of a streaming pair.
// Primary: its current WAL position, the standbys in pg_stat_replication (client address, state,
// sent/write/flush/replay LSN, lag in bytes = current - replay, and the write/flush/replay lag
// times PostgreSQL measures), and its physical slots (retained WAL, wal_status).
// Standby: received and replayed LSN, the last replayed transaction's commit time, the WAL
// receiver (status, sender host/port, slot, the primary's last reported end of WAL).
// Lag, standby side: bytes = max(received, primary's last reported end) - replayed. Seconds = now -
// last replayed commit time, EXCEPT when everything received is replayed: then 0. (With no writes
// on the primary the last commit grows old although the standby is fully caught up.)
// Lag, primary side: seconds = replay_lag when PostgreSQL has a measurement; it resets it to NULL
// once a standby is idle and caught up, so NULL with 0 bytes behind is reported as 0, and NULL with
// bytes behind as null (unknown).
// conninfo (which may hold a password) is never read.
import { pgStatusArgsSchema, type PgReplicationStatus, type PgSlotStatus, type PgStandbyConnection, type PgStatusArgs } from '@tandem/protocol';
import { parseInput, type PgContext } from './context.ts';
import { queryJson, resolveInstance } from './instance.ts';

export type ReplicationStatusInput = PgStatusArgs;
export type StandbyConnection = PgStandbyConnection;
export type SlotStatus = PgSlotStatus;
export type ReplicationStatus = PgReplicationStatus;

const QUERY = `SELECT json_build_object(
  'version', current_setting('server_version'),
  'now', now(),
  'in_recovery', pg_is_in_recovery(),
  'current_lsn', CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() END,
  'timeline', (SELECT timeline_id FROM pg_control_checkpoint()),
  'cur_tli', CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
  'receive_lsn', pg_last_wal_receive_lsn(),
  'replay_lsn', pg_last_wal_replay_lsn(),
  'replay_ts', pg_last_xact_replay_timestamp(),
  'replay_age', extract(epoch FROM now() - pg_last_xact_replay_timestamp()),
  'standby_lag_bytes', CASE WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(
      GREATEST(pg_last_wal_receive_lsn(), (SELECT latest_end_lsn FROM pg_stat_wal_receiver)), pg_last_wal_replay_lsn()) END,
  'receiver', (SELECT json_build_object('status', status, 'sender_host', sender_host, 'sender_port', sender_port, 'slot_name', slot_name,
                 'latest_end_lsn', latest_end_lsn, 'latest_end_time', latest_end_time, 'received_tli', received_tli) FROM pg_stat_wal_receiver),
  'standbys', (SELECT coalesce(json_agg(json_build_object(
      'pid', pid, 'user', usename, 'application_name', application_name, 'client_addr', host(client_addr), 'state', state, 'sync_state', sync_state,
      'sent_lsn', sent_lsn, 'write_lsn', write_lsn, 'flush_lsn', flush_lsn, 'replay_lsn', replay_lsn,
      'lag_bytes', pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, replay_lsn),
      'write_lag', extract(epoch FROM write_lag), 'flush_lag', extract(epoch FROM flush_lag), 'replay_lag', extract(epoch FROM replay_lag)
    ) ORDER BY application_name, pid), '[]'::json) FROM pg_stat_replication),
  'slots', (SELECT coalesce(json_agg(json_build_object(
      'name', slot_name, 'active', active, 'restart_lsn', restart_lsn, 'wal_status', wal_status,
      'retained', pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)
    ) ORDER BY slot_name), '[]'::json) FROM pg_replication_slots WHERE slot_type = 'physical')
)`;

interface Raw {
  version: string;
  now: string;
  in_recovery: boolean;
  current_lsn: string | null;
  timeline: number | null;
  cur_tli: number | null;
  receive_lsn: string | null;
  replay_lsn: string | null;
  replay_ts: string | null;
  replay_age: number | string | null;
  standby_lag_bytes: number | string | null;
  receiver: {
    status: string;
    sender_host: string | null;
    sender_port: number | null;
    slot_name: string | null;
    latest_end_lsn: string | null;
    latest_end_time: string | null;
    received_tli: number | null;
  } | null;
  standbys: {
    pid: number;
    user: string | null;
    application_name: string;
    client_addr: string | null;
    state: string;
    sync_state: string;
    sent_lsn: string | null;
    write_lsn: string | null;
    flush_lsn: string | null;
    replay_lsn: string | null;
    lag_bytes: number | string | null;
    write_lag: number | string | null;
    flush_lag: number | string | null;
    replay_lag: number | string | null;
  }[];
  slots: { name: string; active: boolean; restart_lsn: string | null; wal_status: string | null; retained: number | string | null }[];
}

const num = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

export async function replicationStatus(input: ReplicationStatusInput, ctx?: PgContext): Promise<ReplicationStatus> {
  const { instance } = parseInput(pgStatusArgsSchema, input, 'replicationStatus');
  const inst = await resolveInstance(instance, ctx);
  const r = await queryJson<Raw>(inst, QUERY, ctx);
  const standbys: StandbyConnection[] = r.standbys.map((s) => {
    const lagBytes = num(s.lag_bytes);
    const replayLag = num(s.replay_lag);
    return {
      pid: s.pid,
      user: s.user,
      applicationName: s.application_name,
      clientAddr: s.client_addr,
      state: s.state,
      syncState: s.sync_state,
      sentLsn: s.sent_lsn,
      writeLsn: s.write_lsn,
      flushLsn: s.flush_lsn,
      replayLsn: s.replay_lsn,
      lagBytes,
      writeLagSeconds: num(s.write_lag),
      flushLagSeconds: num(s.flush_lag),
      replayLagSeconds: replayLag,
      lagSeconds: replayLag ?? (lagBytes !== null && lagBytes <= 0 ? 0 : null),
    };
  });
  const slots: SlotStatus[] = r.slots.map((s) => ({ name: s.name, active: s.active, restartLsn: s.restart_lsn, retainedBytes: num(s.retained), walStatus: s.wal_status }));
  let standby: ReplicationStatus['standby'] = null;
  if (r.in_recovery) {
    const lagBytes = num(r.standby_lag_bytes) ?? (r.receive_lsn === null ? null : 0);
    const caughtUp = r.receive_lsn !== null && r.replay_lsn !== null && (lagBytes ?? 0) <= 0;
    const age = num(r.replay_age);
    standby = {
      receiveLsn: r.receive_lsn,
      replayLsn: r.replay_lsn,
      lastReplayTimestamp: r.replay_ts,
      lagBytes: lagBytes === null ? null : Math.max(0, lagBytes),
      lagSeconds: caughtUp ? 0 : age === null ? null : Math.max(0, age),
      receiver: r.receiver
        ? {
            status: r.receiver.status,
            senderHost: r.receiver.sender_host,
            senderPort: r.receiver.sender_port,
            slotName: r.receiver.slot_name,
            latestEndLsn: r.receiver.latest_end_lsn,
            latestEndTime: r.receiver.latest_end_time,
          }
        : null,
    };
  }
  return {
    role: r.in_recovery ? 'standby' : 'primary',
    dataDir: inst.dataDir,
    port: inst.port,
    version: r.version,
    checkedAt: r.now,
    timeline: r.cur_tli ?? r.receiver?.received_tli ?? r.timeline,
    standbys,
    slots,
    primary: r.in_recovery ? null : { currentLsn: r.current_lsn ?? '' },
    standby,
  };
}
