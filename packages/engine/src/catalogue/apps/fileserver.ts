import { z } from 'zod';
import type { FactsSnapshot } from '../snapshot.ts';
import { appFacts } from './common.ts';

// File server application facts (catalogue §3.1, `app.fileserver`): SMB shares (Windows File
// Server role or Samba) and NFS exports, server settings, DFS links, what ACL features the
// protected data uses, and the principals its ACLs name.

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

export const aclModes = ['ntfs-acl', 'ads', 'posix-acl', 'xattr', 'selinux'] as const;

export const fileServerShareSchema = z.strictObject({
  name: str,
  protocol: z.enum(['smb', 'nfs']),
  path: str,
  /** Clients cannot write through it (SMB read-only share or share ACL; NFS `ro`). */
  readOnly: z.boolean(),
  /** Share or export options as configured (Samba parameters, NFS options, Windows share flags). */
  options: z.record(z.string().max(128), str),
  /** Share-level permissions (SMB) or client list (NFS). */
  acl: list(z.strictObject({ principal: str, access: str }), 1000),
  /** Junctions or mount points below the path (their content is a separate file system). */
  nestedMounts: list(str, 256),
});

const serverSchema = z.strictObject({
  /** The server software is installed (Windows File Server role, Samba, nfs-kernel-server). */
  installed: z.boolean(),
  /** Its service or unit (LanmanServer, smbd, nfs-server); null when not installed. */
  service: str.nullable(),
});

export const fileserverFactsSchema = z.strictObject({
  shares: list(fileServerShareSchema, 5000),
  servers: z.strictObject({ smb: serverSchema, nfs: serverSchema }),
  /** Server settings by key: smb.signing, smb.encrypt, smb.smb1, nfs.versions, nfs.sec, samba.global.<parameter>… */
  serverConfig: z.record(z.string().max(256), str),
  /** DFS namespace links and their folder targets (UNC paths). */
  dfsLinks: list(z.strictObject({ namespace: str, link: str, targets: list(str, 64) }), 5000),
  /** What the protected data uses, per share path (source); the target reports its own. */
  aclModes: list(z.strictObject({ path: str, modes: list(z.enum(aclModes), 8) }), 5000),
  /**
   * Principals named by ACLs and owners. On the source: those its data uses. On the target: how it
   * resolves the same ids (name null: it cannot).
   */
  principals: list(z.strictObject({ id: str, name: str.nullable(), local: z.boolean() }), 100_000),
});
export type FileserverFacts = z.infer<typeof fileserverFactsSchema>;
export type FileServerShare = z.infer<typeof fileServerShareSchema>;

export const fileserver = (snap: FactsSnapshot, side: 'source' | 'target'): FileserverFacts => appFacts(snap, side, 'fileserver', fileserverFactsSchema, 'file server');
