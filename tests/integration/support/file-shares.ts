// Runs a real agent that sees NFS exports of our choosing, without touching the host's sharing
// configuration: the agent starts in a private mount namespace where /etc/exports.d is a tmpfs
// holding one exports file. The agent's file-share collector then reports a real file server.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** Only an empty directory is created on the host (the mount point); its content stays private. */
const MOUNT_POINT = '/etc/exports.d';

export function spawnAgentWithExports(bundle: string, configPath: string, exportPaths: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  fs.mkdirSync(MOUNT_POINT, { recursive: true });
  const exportsText = exportPaths.map((p) => `"${p}" 127.0.0.1(rw,sync,no_subtree_check)`).join('\n') + '\n';
  const script = [
    'set -e',
    `mount -t tmpfs -o size=1m,mode=0755 tandem-test-exports ${MOUNT_POINT}`,
    `printf '%s' "$TANDEM_TEST_EXPORTS" > ${MOUNT_POINT}/tandem-test.exports`,
    'exec "$0" "$@"',
  ].join('\n');
  // No --fork: unshare and sh exec into the agent, so the child's pid is the agent's and signals
  // (SIGTERM for a clean stop) reach it directly.
  return spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, process.execPath, bundle, 'run', '--config', configPath], {
    env: { ...env, TANDEM_TEST_EXPORTS: exportsText },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
