// Hooks: scripts the control plane stores in the agent's hooks directory and runs on demand.
// hook.write replaces <hooksDir>/<name> atomically (temp file + rename, mode 0700; the directory
// is created 0700). hook.run executes the file directly — no shell — in its own process group,
// keeps at most HOOK_OUTPUT_LIMIT bytes of each stream, and on timeout sends SIGTERM to the group,
// then SIGKILL after a short grace. On Windows, hooks must be .ps1 (run by powershell.exe -File)
// or .exe files, and a timeout kills the process tree.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { HOOK_OUTPUT_LIMIT, type ActionResult } from '@tandem/protocol';
import { killTree } from '../exec.ts';

/** How long a hook has between SIGTERM and SIGKILL after its timeout. */
const KILL_GRACE_MS = 2_000;
/** After a hook exits, how long to wait for its pipes (a background child may hold them). */
const PIPE_GRACE_MS = 300;

/** <hooksDir>/<name>, refusing any name that would resolve elsewhere. */
export function hookPath(hooksDir: string, name: string): string {
  const dir = path.resolve(hooksDir);
  const file = path.resolve(dir, name);
  if (path.dirname(file) !== dir || path.basename(file) !== name)
    throw new Error(`Invalid argument "name": hook "${name}" would leave the hooks directory`);
  return file;
}

export async function writeHook(hooksDir: string, name: string, content: string): Promise<ActionResult<'hook.write'>> {
  const file = hookPath(hooksDir, name);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') await chmod(dir, 0o700);
  const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const data = Buffer.from(content, 'utf8');
  try {
    const handle = await open(tmp, 'wx', 0o700);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, 0o700); // The umask may have narrowed the mode.
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { path: file, bytes: data.length };
}

/** Keeps the first `limit` bytes of a stream, cut back to a whole UTF-8 character. */
class BoundedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer) {
    const room = this.limit - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    let buf = Buffer.concat(this.chunks);
    if (this.truncated && buf.length > 0) {
      // Drop a multi-byte character the limit cut in half: find the last character's lead byte.
      let i = buf.length - 1;
      for (let steps = 0; i > 0 && steps < 3 && (buf[i]! & 0xc0) === 0x80; steps++) i--;
      const lead = buf[i]!;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (i + need > buf.length) buf = buf.subarray(0, i);
    }
    return buf.toString('utf8');
  }
}

/** The agent's environment without its own TANDEM_* settings, plus TANDEM_HOOK (the hook's name). */
function hookEnv(name: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TANDEM_')) delete env[key];
  env.TANDEM_HOOK = name;
  return env;
}

function commandFor(file: string, args: string[], platform: NodeJS.Platform): [string, string[]] {
  if (platform !== 'win32') return [file, args];
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ps1')
    return ['powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', file, ...args]];
  if (ext === '.exe' || ext === '.com') return [file, args];
  throw new Error(`hooks on Windows must be .ps1 or .exe files (not "${path.basename(file)}")`);
}

export async function runHook(
  hooksDir: string,
  name: string,
  args: string[],
  timeoutMs: number,
  platform: NodeJS.Platform = process.platform,
): Promise<ActionResult<'hook.run'>> {
  const file = hookPath(hooksDir, name);
  let st;
  try {
    st = await lstat(file);
  } catch {
    throw new Error(`hook "${name}" not found in ${path.resolve(hooksDir)}`);
  }
  if (!st.isFile()) throw new Error(`hook "${name}" is not a regular file`);
  const [cmd, argv] = commandFor(file, args, platform);

  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd: path.dirname(file),
      env: hookEnv(name),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: platform !== 'win32',
      windowsHide: true,
    });
    const stdout = new BoundedBuffer(HOOK_OUTPUT_LIMIT);
    const stderr = new BoundedBuffer(HOOK_OUTPUT_LIMIT);
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));

    let timedOut = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let pipeTimer: NodeJS.Timeout | undefined;

    const timer = setTimeout(() => {
      timedOut = true;
      if (platform === 'win32') {
        killTree(child.pid);
        return;
      }
      killTree(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killTree(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(pipeTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      // After a timeout, make sure nothing of the group survives.
      if (timedOut && platform !== 'win32') killTree(child.pid, 'SIGKILL');
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    };

    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      const why =
        e.code === 'EACCES'
          ? 'is not executable'
          : e.code === 'ENOENT'
            ? 'cannot be started (missing interpreter?)'
            : `failed to start: ${e.message}`;
      reject(new Error(`hook "${name}" ${why}`));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      pipeTimer = setTimeout(finish, PIPE_GRACE_MS);
    });
    child.on('close', finish);
  });
}
