// Running a command: argument vectors only (never a shell string), bounded output, and a timeout
// that kills the command's whole process group. Collectors and executors take a CommandRunner so
// Windows, Pacemaker and systemd code can be tested against recorded outputs.
import { spawn } from 'node:child_process';

export interface CommandOptions {
  /** Kill the command (and its process group) after this long; default 30 s. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed (stdin is /dev/null otherwise). */
  input?: string;
  /** The whole environment (default: the agent's). process.env is accepted as is. */
  env?: Record<string, string | undefined>;
  /** Run as this user and group (POSIX; the agent runs as root). */
  uid?: number;
  gid?: number;
  cwd?: string;
}

export interface CommandResult {
  /** Exit code; null when the command was ended by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  (cmd: string, args: string[], opts?: CommandOptions): Promise<CommandResult>;
}

/** Most output a command may produce on each stream before it is killed. */
export const COMMAND_OUTPUT_LIMIT = 8 * 1024 * 1024;
export const DEFAULT_RUN_TIMEOUT_MS = 30_000;
/** After a command exits, how long to wait for its pipes to close (a daemon it started may hold them). */
const PIPE_GRACE_MS = 300;

export class CommandError extends Error {
  override name = 'CommandError';
}

/** Kills a child and, on POSIX, its process group (it was started as a group leader). */
export function killTree(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    try {
      spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
    } catch {
      // Best effort.
    }
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export const runCommand: CommandRunner = (cmd, args, opts = {}) =>
  new Promise<CommandResult>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const label = [cmd, ...args].join(' ').slice(0, 200);
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, {
        env: (opts.env ?? process.env) as NodeJS.ProcessEnv,
        cwd: opts.cwd,
        uid: opts.uid,
        gid: opts.gid,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        windowsHide: true,
        // Its own process group, so a timeout can kill everything the command started.
        detached: process.platform !== 'win32',
      });
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }

    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let settled = false;
    let failure: Error | null = null;
    let exitCode: number | null = null;
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (failure) reject(failure);
      else resolve({ code: exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    };
    const fail = (e: Error) => {
      if (settled || failure) return;
      failure = e;
      killTree(child.pid);
      // Wait for the exit (or give up shortly) so no zombie pipes linger.
      graceTimer = setTimeout(finish, PIPE_GRACE_MS);
    };

    const timer = setTimeout(() => fail(new CommandError(`${label}: timed out after ${timeoutMs} ms`)), timeoutMs);

    child.stdout?.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > COMMAND_OUTPUT_LIMIT) fail(new CommandError(`${label}: output exceeded ${COMMAND_OUTPUT_LIMIT} bytes`));
      else out.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= COMMAND_OUTPUT_LIMIT) err.push(chunk);
    });
    child.on('error', (e) => {
      failure ??= new CommandError(`${label}: ${e.message}`);
      finish();
    });
    child.on('exit', (code) => {
      exitCode = code;
      clearTimeout(graceTimer);
      graceTimer = setTimeout(finish, PIPE_GRACE_MS);
    });
    child.on('close', finish);

    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // The command may exit without reading its input.
      child.stdin.end(opts.input);
    }
  });
