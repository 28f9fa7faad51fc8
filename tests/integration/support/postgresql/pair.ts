// The replication scenario both PostgreSQL replication tests use (direct calls, and through agents):
// the role and slot names, a password that exercises every escaping layer, and the arguments that
// make one temporary cluster a standby of another.
import type { TempCluster } from './cluster.ts';

export const REPL_USER = 'tandem_repl';
/** The slot B streams from (A primary), and the one A streams from after the failover (B primary). */
export const SLOT_TO_B = 'tandem_to_b';
export const SLOT_TO_A = 'tandem_to_a';

/** Quotes, backslash, colon, space and a non-ASCII letter; `passwordFragment` is a part no escaping layer changes. */
export const trickyPassword = (prefix: string) => `${prefix}'et\\${passwordFragment()}`;
export const passwordFragment = () => `pa:ss wörd-${process.pid}`;

/** What clone-standby and rewind-or-reclone need to make `standby` stream from `primary` over loopback (add `port` to clone). */
export function standbyOf(standby: TempCluster, primary: TempCluster, password: string, slotName: string) {
  return {
    dataDir: standby.dataDir,
    socketDir: standby.socketDir,
    source: { host: '127.0.0.1', port: primary.port },
    replicationUser: REPL_USER,
    password,
    slotName,
  };
}
