// The peer we compare against: a real rsync daemon on 127.0.0.1 (its own process, a module rooted
// at a temp dir), pushed to by an rsync client — a real network transfer over loopback, like ours.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../tests/integration/support/ports.ts';

/** Resolves once a server `child` accepts connections on 127.0.0.1:`port` (10 s at most); rejects if it exits. */
export async function untilListening(child: ChildProcess, port: number, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start listening: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the child has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function rsyncVersion(): string | undefined {
  const r = spawnSync('rsync', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]?.trim() : undefined;
}

export interface RsyncDaemon {
  child: ChildProcess;
  url: (sub: string) => string;
  stop: () => Promise<void>;
}

/** Starts `rsync --daemon` with module `bench` at `moduleDir`; resolves once it accepts connections. */
export async function startDaemon(workDir: string, moduleDir: string): Promise<RsyncDaemon> {
  const port = await freePort();
  const conf = path.join(workDir, 'rsyncd.conf');
  // uid/gid root so -a can preserve ownership; no chroot and no symlink munging so links arrive as is.
  writeFileSync(
    conf,
    [
      `pid file = ${path.join(workDir, 'rsyncd.pid')}`,
      `log file = ${path.join(workDir, 'rsyncd.log')}`,
      'use chroot = no',
      '[bench]',
      `path = ${moduleDir}`,
      'read only = no',
      'uid = 0',
      'gid = 0',
      'munge symlinks = no',
      '',
    ].join('\n'),
  );
  const child = spawn('rsync', ['--daemon', '--no-detach', `--port=${port}`, '--address=127.0.0.1', `--config=${conf}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilListening(child, port, 'rsync daemon');
  return {
    child,
    url: (sub) => `rsync://127.0.0.1:${port}/bench/${sub}`,
    stop: () => stopChild(child),
  };
}

export interface RsyncRun {
  ms: number;
  /** From --stats: bytes the client sent and received (rsync protocol bytes, like our frame counters). */
  sent: number;
  received: number;
  literal: number;
  matched: number;
}

const stat = (out: string, label: string): number => {
  const m = new RegExp(`${label}: ([\\d,]+)`).exec(out);
  return m ? Number(m[1]!.replace(/,/g, '')) : NaN;
};

/** Runs the rsync client (`rsync <args>`), timed from spawn to exit. */
export async function runRsync(args: string[], children: Set<ChildProcess>): Promise<RsyncRun> {
  const t0 = performance.now();
  const child = spawn('rsync', [...args, '--stats'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const ms = performance.now() - t0;
  children.delete(child);
  if (code !== 0) throw new Error(`rsync ${args.join(' ')} exited ${code}: ${err.trim()}`);
  return {
    ms,
    sent: stat(out, 'Total bytes sent'),
    received: stat(out, 'Total bytes received'),
    literal: stat(out, 'Literal data'),
    matched: stat(out, 'Matched data'),
  };
}
