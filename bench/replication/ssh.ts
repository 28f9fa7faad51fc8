// The encrypted peer: rsync over ssh to a private sshd on 127.0.0.1 (its own host key, one
// authorised client key, nothing else). Tandem's data channel is encrypted and authenticated
// (TLS-PSK), so rsync over ssh — how rsync is normally run between two machines — is the
// like-for-like comparison; the plaintext rsync daemon (rsync.ts) is measured beside it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../tests/integration/support/ports.ts';
import { stopChild, untilListening } from './rsync.ts';

const SSHD = '/usr/sbin/sshd';

export interface SshPeer {
  child: ChildProcess;
  /** rsync's `-e` value for this peer. */
  rsh: string;
  /** An rsync destination for `sub` (an absolute path on this machine). */
  dest: (abs: string) => string;
  stop: () => Promise<void>;
}

export function sshAvailable(): boolean {
  return existsSync(SSHD) && spawnSync('ssh', ['-V']).status === 0;
}

/** Starts sshd on a free loopback port with keys in `dir`; resolves once it accepts connections. */
export async function startSshPeer(dir: string): Promise<SshPeer> {
  mkdirSync(dir, { recursive: true });
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  for (const k of [hostKey, clientKey]) {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  }
  const authorized = path.join(dir, 'authorized_keys');
  spawnSync('cp', [`${clientKey}.pub`, authorized]);
  const port = await freePort();
  const conf = path.join(dir, 'sshd_config');
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The temp dir's modes are not sshd's business here.
      'StrictModes no',
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD, ['-D', '-e', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilListening(child, port, 'sshd');
  const knownHosts = path.join(dir, 'known_hosts');
  return {
    child,
    rsh: `ssh -p ${port} -i ${clientKey} -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${knownHosts} -o LogLevel=ERROR`,
    dest: (abs) => `root@127.0.0.1:${abs}`,
    stop: () => stopChild(child),
  };
}
