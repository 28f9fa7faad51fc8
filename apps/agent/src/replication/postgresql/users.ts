// OS users: the owner of a data directory, as whom every PostgreSQL command runs.
import { readFile, stat } from 'node:fs/promises';
import { type CommandRunner } from '../../exec.ts';
import { PostgresReplicationError } from './context.ts';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

async function lookupUser(run: CommandRunner, key: string | number): Promise<OsUser | null> {
  const parse = (line: string): OsUser | null => {
    const f = line.split(':');
    if (f.length < 7) return null;
    if (typeof key === 'number' ? Number(f[2]) !== key : f[0] !== key) return null;
    return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! || '/' };
  };
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const u = parse(line);
    if (u) return u;
  }
  try {
    const r = await run('getent', ['passwd', String(key)], { timeoutMs: 5_000 });
    if (r.code === 0) return parse(r.stdout.trim());
  } catch {
    // No getent.
  }
  return null;
}

export async function userByUid(run: CommandRunner, uid: number): Promise<OsUser> {
  const u = await lookupUser(run, uid);
  if (u) return u;
  return { name: String(uid), uid, gid: uid, home: '/' };
}

export async function userByName(run: CommandRunner, name: string): Promise<OsUser> {
  const u = await lookupUser(run, name);
  if (!u) throw new PostgresReplicationError(`no OS user named ${name}`, 'invalid-input');
  return u;
}

/** The owner of a data directory, refusing root (PostgreSQL never runs as root). */
export async function dataDirOwner(run: CommandRunner, dataDir: string): Promise<OsUser> {
  const st = await stat(dataDir);
  if (st.uid === 0) throw new PostgresReplicationError(`${dataDir} is owned by root; PostgreSQL data directories belong to the postgres user`, 'unsafe');
  return userByUid(run, st.uid);
}
