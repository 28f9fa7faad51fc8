// What the validation collectors share: the facts IO (replaceable in tests), the agent's own
// settings, and a per-run cache of the /proc walk that both `listening` and `openFiles` need.
import type { CommandRunner } from '../exec.ts';
import type { FactsIO } from '../facts/io.ts';
import { readFileOrNull } from '../facts/io.ts';
import { userByUid, type PasswdEntry } from '../facts/linux-proc.ts';
import { mapLimit } from '../facts/util.ts';

export interface ValidationContext {
  io: FactsIO;
  hooksDir: string;
  agentVersion: string;
  /** Action names this agent build carries (the capability modules derive from them). */
  actionNames: readonly string[];
  /** The process the agent runs as (tests may describe another). */
  uid: number;
  gid: number;
  /** Each collector's deadline. */
  collectorTimeoutMs: number;
  /** The mounts file (tests: a recorded one). */
  mountInfoFile: string;
  /** Memoised /proc/<pid>/fd links for this run. */
  fdTable?: Promise<FdEntry[]>;
  users?: Map<number, Promise<PasswdEntry | null>>;
}

export interface FdEntry {
  pid: number;
  fd: string;
  /** The link target: a path, `socket:[inode]`, `pipe:[…]`, `anon_inode:…`. */
  target: string;
}

/** Every open file descriptor of every process we may read (others are skipped). */
export function fdTable(ctx: ValidationContext): Promise<FdEntry[]> {
  ctx.fdTable ??= (async () => {
    const pids = (await ctx.io.readDir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
    const perPid = await mapLimit(pids, 32, async (pid) => {
      let fds: string[];
      try {
        fds = await ctx.io.readDir(`/proc/${pid}/fd`);
      } catch {
        return []; // Gone, or not ours to read.
      }
      const entries: FdEntry[] = [];
      for (const fd of fds) {
        try {
          entries.push({ pid, fd, target: await ctx.io.readLink(`/proc/${pid}/fd/${fd}`) });
        } catch {
          // Closed meanwhile.
        }
      }
      return entries;
    });
    return perPid.flat();
  })();
  return ctx.fdTable;
}

/** A process's short name (comm), or `pid <n>` when it is gone. */
export async function processName(ctx: ValidationContext, pid: number): Promise<string> {
  return (await readFileOrNull(ctx.io, `/proc/${pid}/comm`))?.trim() || `pid ${pid}`;
}

/** The user name of a uid (cached per run), or null when no user has it. */
export async function userName(ctx: ValidationContext, uid: number): Promise<string | null> {
  ctx.users ??= new Map();
  let entry = ctx.users.get(uid);
  if (!entry) {
    entry = userByUid(ctx.io, uid);
    ctx.users.set(uid, entry);
  }
  return (await entry)?.name ?? null;
}

/**
 * A runner that starts at most `limit` commands at once, each in a later turn of the event loop.
 * Starting a process blocks the event loop for a moment (long on some kernels and sandboxes);
 * a dozen started at once kept the agent from answering its gateway's heartbeats.
 */
export function limitedRunner(run: CommandRunner, limit: number): CommandRunner {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (cmd, args, opts) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      await new Promise((resolve) => setImmediate(resolve));
      return await run(cmd, args, opts);
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
