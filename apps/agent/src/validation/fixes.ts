// Fixes the agent carries out for the validation catalogue (Linux): fs.ensure-path and
// hooks.prepare-dir. Each is an ensure: it reads the current state first, answers stale-plan when
// it is no longer what the plan saw, already-satisfied when nothing needs doing, and otherwise
// changes it and reads it back. A path's state is written "<owner> <mode>", e.g. "postgres 0700",
// or "absent".
import { chmod, chown, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ActionArgs, FixResult } from '@tandem/protocol';
import { readFileOrNull, type FactsIO } from '../facts/io.ts';
import { userByUid, type PasswdEntry } from '../facts/linux-proc.ts';

export const ABSENT = 'absent';

export const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

export async function userByName(io: FactsIO, name: string): Promise<PasswdEntry | null> {
  const passwd = (await readFileOrNull(io, '/etc/passwd')) ?? '';
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && f[0] === name) return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
  }
  // Users from NSS (LDAP, SSSD) are not in /etc/passwd.
  const r = await io.run('getent', ['passwd', name], { timeoutMs: 5_000 }).catch(() => null);
  const f = r?.stdout.trim().split(':') ?? [];
  return r?.code === 0 && f.length >= 7 ? { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! } : null;
}

interface PathState {
  exists: boolean;
  isDirectory: boolean;
  uid: number;
  mode: number;
  text: string;
}

async function pathState(io: FactsIO, p: string): Promise<PathState> {
  try {
    const s = await lstat(p);
    const owner = (await userByUid(io, s.uid))?.name ?? String(s.uid);
    return { exists: true, isDirectory: s.isDirectory(), uid: s.uid, mode: s.mode & 0o7777, text: `${owner} ${octal(s.mode)}` };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return { exists: false, isDirectory: false, uid: -1, mode: 0, text: ABSENT };
  }
}

/** Whether a plan's `before` ("owner mode", a uid for the owner, mode with or without 0 / 0o) describes the state. */
export function sameState(expected: string, state: PathState, uidOf: (owner: string) => number | null): boolean {
  const e = expected.trim();
  if (/^(absent|missing)$/i.test(e)) return !state.exists;
  const m = /^(\S+)\s+(?:0o)?([0-7]{3,4})$/i.exec(e);
  if (!m || !state.exists) return false;
  const uid = /^\d+$/.test(m[1]!) ? Number(m[1]) : uidOf(m[1]!);
  return uid === state.uid && parseInt(m[2]!, 8) === state.mode;
}

export async function ensurePath(io: FactsIO, args: ActionArgs<'fs.ensure-path'>): Promise<FixResult> {
  if (io.platform !== 'linux') throw new Error(`fs.ensure-path is not supported on ${io.platform}`);
  const p = path.resolve(args.path);
  const user = await userByName(io, args.owner);
  if (!user) throw new Error(`no user "${args.owner}" on this server`);
  const before = await pathState(io, p);
  const wanted = `${user.name} ${octal(args.mode)}`;
  if (before.exists && !before.isDirectory) throw new Error(`${p} exists and is not a directory`);
  if (before.exists && before.uid === user.uid && before.mode === (args.mode & 0o7777)) {
    return { outcome: 'already-satisfied', before: before.text, after: before.text, detail: null };
  }
  // Only a change is checked against the plan: a desired state already reached is fine however it came.
  if (args.expected !== null) {
    const expectedUser = /^(\S+)\s/.exec(args.expected.trim())?.[1];
    const expectedUid = expectedUser && !/^\d+$/.test(expectedUser) ? ((await userByName(io, expectedUser))?.uid ?? null) : null;
    if (!sameState(args.expected, before, () => expectedUid)) {
      return { outcome: 'stale-plan', before: before.text, after: before.text, detail: `the plan expected "${args.expected}", the path is now "${before.text}": validate again` };
    }
  }
  if (!before.exists) {
    if (!args.create) throw new Error(`${p} does not exist (and the plan does not create it)`);
    // Parents are created as plain directories on their parent's file system; only the path itself gets the owner and mode.
    await mkdir(p, { recursive: true, mode: 0o700 });
  }
  await chown(p, user.uid, user.gid);
  await chmod(p, args.mode & 0o7777); // After chown, which may clear set-id bits.
  const after = await pathState(io, p);
  if (after.uid !== user.uid || after.mode !== (args.mode & 0o7777)) {
    throw new Error(`${p} is "${after.text}" after the change, not "${wanted}"`);
  }
  return { outcome: 'changed', before: before.text, after: after.text, detail: before.exists ? null : `created ${p}` };
}

/** The agent's hook directory: a directory, mode 0700, owned by the account the agent runs as. */
export async function prepareHooksDir(io: FactsIO, hooksDir: string, uid: number, gid: number): Promise<FixResult> {
  if (io.platform === 'win32') throw new Error('hooks.prepare-dir is not supported on Windows by this collector');
  const dir = path.resolve(hooksDir);
  const before = await pathState(io, dir);
  if (before.exists && !before.isDirectory) throw new Error(`the hooks path ${dir} exists and is not a directory: move it away first`);
  if (before.exists && before.uid === uid && before.mode === 0o700) return { outcome: 'already-satisfied', before: before.text, after: before.text, detail: dir };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chown(dir, uid, gid);
  await chmod(dir, 0o700);
  const after = await pathState(io, dir);
  return { outcome: 'changed', before: before.text, after: after.text, detail: dir };
}
