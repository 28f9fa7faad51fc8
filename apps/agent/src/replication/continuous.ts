// Continuous replication: after the initial mirror, the source watches its root and streams every
// change to the target over the same kind of data channel (TLS-PSK, CRC frames; see channel.ts).
// - continuous/source.ts: the source agent's side (watcher, queue, probes, deltas, resume rule);
//   its parts: queue.ts (change queue), session.ts (session with the target), path-sync.ts (one
//   change), send-file.ts (a file's content), dir-attrs.ts (directory-attribute sweep);
// - continuous/journal.ts: the source's journal of pending changes (survives a restart);
// - continuous/target.ts: the target agent's side (serves mirror, continuous and verify sessions).
export { ContinuousSource, type ContinuousSourceOptions, type ReplicationStats } from './continuous/source.ts';
export { ContinuousTarget, type ContinuousTargetOptions } from './continuous/target.ts';
