// Message types and header schemas of the mirror protocol (carried as channel frames). Every header
// that crosses the wire is parsed with zod on arrival: a peer is authenticated but still not trusted
// to send well-formed paths or numbers.
import { z } from 'zod';
import { isSafeRelPath } from './manifest.ts';
import { replicationRuleSchema } from './set.ts';

// 2: hard links (link entries, LINK) and the root's own metadata (ROUND_END root, ROOT_META).
export const PROTOCOL_VERSION = 2;

/** Both agents of a pair must speak the same version; a mismatch is refused at the start, plainly. */
const versionSchema = z.literal(PROTOCOL_VERSION, {
  error: (issue) => `The other agent speaks replication protocol ${String(issue.input)}, this one ${PROTOCOL_VERSION}: update both agents to the same release`,
});

export const MSG = {
  /** S→T start of a round: {version, round, mode, orphans, force[]} */
  ROUND: 1,
  /** S→T a chunk of the source manifest: {entries[]}; a file entry with `link` is a hard link to that earlier file entry */
  MANIFEST: 2,
  /** S→T {count} */
  MANIFEST_END: 3,
  /** T→S a file the target needs: {path, sig?: {size, blockSize}} + body = block hashes */
  NEED: 4,
  /** T→S {count} */
  NEEDS_END: 5,
  /** S→T {fid, path, size, delta} */
  FILE_BEGIN: 6,
  /** S→T {fid, off} + body = bytes at off */
  DATA: 7,
  /** S→T {fid, path, size, mode, uid, gid, mtimeMs, changed?: number[]} */
  FILE_END: 8,
  /** S→T {fid}: the file changed while being read; discard it */
  FILE_ABORT: 9,
  /** T→S {fid, ok, error?} */
  ACK: 10,
  /** S→T {round} */
  ROUND_END: 11,
  /** T→S {round, orphans, errors[]} */
  ROUND_DONE: 12,
  /** S→T the session is over */
  BYE: 13,
  /** either way: {message}; the session is aborted */
  ERROR: 14,
  /** T→S a frame failed its CRC (informational; lets S re-send a lost ROUND_END) */
  CORRUPT: 15,
  // Continuous replication (continuous.ts): one change per message, identified by its sequence
  // number in `fid`; the target answers each with ACK (not necessarily in order).
  /** S→T opens a continuous session: {version} */
  HELLO: 16,
  /** T→S {version} */
  HELLO_OK: 17,
  /** S→T what do you hold at this path? {path} ('' = the root) */
  PROBE: 18,
  /** T→S {path, entry?, sigSize?, children?} + body = block hashes when entry is a file */
  PROBE_REPLY: 19,
  /** S→T {fid, path}: remove the path (recursively) */
  DELETE: 20,
  /** S→T {fid, entry}: make the path a directory with this metadata */
  DIR: 21,
  /** S→T {fid, entry}: make the path this symlink */
  SYMLINK: 22,
  /** S→T {fid, entry}: content is equal, apply mode/owner/mtime */
  META: 23,
  // Verify (verify.ts): S asks, T walks and hashes its copy and streams it back.
  /** S→T {version, rules?, paths?}: describe your copy (or only these paths) with content digests */
  VERIFY: 24,
  /** T→S a chunk of the target's description: {entries[]} (files carry `digest`) */
  VERIFY_ENTRIES: 25,
  /** T→S {count, skipped[]} */
  VERIFY_END: 26,
  /** S→T a whole small file in one frame: {fid, path, size, mode, uid, gid, mtimeMs} + body = its content */
  FILE_WHOLE: 27,
  /** S→T continuous: {fid, path, to}: make `path` a hard link to the file at `to` (after the changes to `to` sent before) */
  LINK: 28,
  /** S→T continuous: {fid, root: {mode, uid, gid, mtimeMs}}: the root directory's own metadata (after its children) */
  ROOT_META: 29,
} as const;

export const mirrorModeSchema = z.enum(['full', 'checksum', 'differences']);
export const orphanPolicySchema = z.enum(['keep', 'delete', 'move-aside']);
export type MirrorMode = z.infer<typeof mirrorModeSchema>;
export type OrphanPolicy = z.infer<typeof orphanPolicySchema>;

const relPath = z.string().max(4096).refine(isSafeRelPath, 'unsafe path');
const uint = z.number().int().nonnegative();

export const entrySchema = z.object({
  path: relPath,
  type: z.enum(['file', 'dir', 'symlink']),
  mode: z.number().int().min(0).max(0o7777),
  uid: uint,
  gid: uint,
  mtimeMs: z.number().finite(),
  size: uint,
  target: z.string().min(1).max(4096).optional(),
  sparse: z.boolean().optional(),
  /** Hard link: this name shares the inode of the file entry at `link` (mirror manifests only). */
  link: relPath.optional(),
});

export const roundSchema = z.object({
  version: versionSchema,
  round: uint,
  mode: mirrorModeSchema,
  orphans: orphanPolicySchema,
  force: z.array(relPath),
  /** differences mode: for a file that differs and exists on the target, send only changed blocks. */
  delta: z.boolean().optional(),
  /**
   * Restricts the round to these paths and what lies below them (verify's re-send): the manifest
   * holds only those (plus their ancestor directories), and orphans are looked for only there.
   */
  scope: z.array(relPath).max(50_000).optional(),
});
export const manifestChunkSchema = z.object({ entries: z.array(entrySchema) });
export const needSchema = z.object({ path: relPath, sig: z.object({ size: uint, blockSize: uint }).optional() });
/** `inPlace` (deltas only): write the changed blocks into the target's file itself (receive.ts). */
export const fileBeginSchema = z.object({ fid: uint, path: relPath, size: uint, delta: z.boolean(), inPlace: z.boolean().optional() });
export const dataSchema = z.object({ fid: uint, off: uint });
export const fileEndSchema = z.object({
  fid: uint,
  path: relPath,
  size: uint,
  mode: z.number().int().min(0).max(0o7777),
  uid: uint,
  gid: uint,
  mtimeMs: z.number().finite(),
  changed: z.array(uint).optional(),
});
export const fileWholeSchema = fileEndSchema.omit({ changed: true });
export const fidSchema = z.object({ fid: uint });
export const ackSchema = z.object({ fid: uint, ok: z.boolean(), error: z.string().optional() });
/** The root directory's own metadata: manifests hold only what lies below it, and rsync -a copies it too. */
export const rootMetaSchema = z.object({ mode: z.number().int().min(0).max(0o7777), uid: uint, gid: uint, mtimeMs: z.number().finite() });
/** `root`: the source root's metadata, applied once the round's directories are stamped. */
export const roundEndSchema = z.object({ round: uint, root: rootMetaSchema.optional() });
export const roundDoneSchema = z.object({ round: uint, orphans: uint, errors: z.array(z.string()) });
export const errorSchema = z.object({ message: z.string() });

// Continuous replication headers.
export const helloSchema = z.object({ version: versionSchema });
/** `rid` matches a reply to its probe: probes of unrelated paths are answered out of order. */
export const probeSchema = z.object({ path: z.union([z.literal(''), relPath]), rid: uint.optional() });
export const probeReplySchema = z.object({
  path: z.union([z.literal(''), relPath]),
  rid: uint.optional(),
  entry: entrySchema.omit({ path: true }).optional(),
  sigSize: uint.optional(),
  /** Files with more than one name on the target: how many (a name the source keeps apart must get an inode of its own). */
  nlink: uint.optional(),
  /** Directory listing, each name prefixed with its type: `f:`, `d:`, `l:` (temp files left out). */
  children: z.array(z.string().min(3).max(4096)).optional(),
});
export const deleteSchema = z.object({ fid: uint, path: relPath });
export const linkSchema = z.object({ fid: uint, path: relPath, to: relPath }).refine((l) => l.path !== l.to, 'a name cannot be a link to itself');
export const entryChangeSchema = z.object({ fid: uint, entry: entrySchema });
export const rootChangeSchema = z.object({ fid: uint, root: rootMetaSchema });

// Verify headers.
export const verifySchema = z.object({
  version: versionSchema,
  rules: z.array(replicationRuleSchema).max(10_000).optional(),
  paths: z.array(relPath).max(50_000).optional(),
});
export const verifyEntrySchema = entrySchema.extend({ digest: z.string().regex(/^[0-9a-f]{64}$/).optional() });
export const verifyEntriesSchema = z.object({ entries: z.array(verifyEntrySchema) });
export const verifyEndSchema = z.object({ count: uint, skipped: z.array(z.object({ path: z.string(), reason: z.string() })) });
