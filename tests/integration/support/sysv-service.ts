// A real SysV service for tests and the failover benchmark: an LSB init script under
// /etc/init.d (unique name) whose daemon is a `sleep 600` with a pid file. The script counts each
// real start and stop in files, so a test can show an idempotent call did nothing, and a mode
// file makes it misbehave on purpose. Needs root (it writes to /etc/init.d).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** normal; slow: running only 0.7 s after start returns; broken: start says it worked but nothing runs. */
export type TestServiceMode = 'normal' | 'slow' | 'broken';

export interface TestService {
  /** The service name (/etc/init.d/<name>). */
  readonly name: string;
  readonly scriptPath: string;
  /** Private directory holding the pid file, the counters and the mode file. */
  readonly dir: string;
  readonly pidFile: string;
  /** Real starts so far (a start of a running service is not counted; a broken start is). */
  starts(): number;
  /** Real stops so far (a stop of a stopped service is not counted). */
  stops(): number;
  /** What the script's `status` says (exit 0). */
  running(): boolean;
  setMode(mode: TestServiceMode): void;
  /** Kills the daemon, removes rc links, the script and its directory. */
  remove(): void;
}

// status follows LSB: 0 running, 1 pid file left but the daemon is dead, 3 stopped.
function script(name: string, label: string, dir: string): string {
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${name}
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Tandem test service (${label})
### END INIT INFO
DIR='${dir}'
PIDFILE="$DIR/pid"
is_up() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start)
    is_up && exit 0
    echo start >> "$DIR/starts"
    mode=$(cat "$DIR/mode" 2>/dev/null)
    if [ "$mode" = broken ]; then exit 0; fi
    if [ "$mode" = slow ]; then
      ( sleep 0.7; sleep 600 >/dev/null 2>&1 </dev/null & echo $! > "$PIDFILE" ) >/dev/null 2>&1 </dev/null &
      exit 0
    fi
    sleep 600 >/dev/null 2>&1 </dev/null &
    echo $! > "$PIDFILE"
    exit 0 ;;
  stop)
    if is_up; then
      echo stop >> "$DIR/stops"
      kill "$(cat "$PIDFILE")"
    fi
    rm -f "$PIDFILE"
    exit 0 ;;
  status)
    is_up && exit 0
    [ -f "$PIDFILE" ] && exit 1
    exit 3 ;;
  *)
    echo "Usage: $0 {start|stop|status}" >&2
    exit 2 ;;
esac
`;
}

const lineCount = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

/** Installs a stopped service named tandem-<label>-<random>, with no rc links (start mode manual). */
export function installTestService(label: string): TestService {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('a SysV test service needs root on Linux');
  const name = `tandem-${label}-${randomBytes(4).toString('hex')}`;
  const scriptPath = `/etc/init.d/${name}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-${label}-service-`));
  const pidFile = path.join(dir, 'pid');
  const modeFile = path.join(dir, 'mode');
  fs.writeFileSync(scriptPath, script(name, label, dir), { mode: 0o755 });

  return {
    name,
    scriptPath,
    dir,
    pidFile,
    starts: () => lineCount(path.join(dir, 'starts')),
    stops: () => lineCount(path.join(dir, 'stops')),
    running: () => spawnSync(scriptPath, ['status'], { stdio: 'ignore' }).status === 0,
    setMode(mode) {
      if (mode === 'normal') fs.rmSync(modeFile, { force: true });
      else fs.writeFileSync(modeFile, mode);
    },
    remove() {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // Not running.
      }
      try {
        execFileSync('update-rc.d', ['-f', name, 'remove'], { stdio: 'ignore' });
      } catch {
        // No links, or no update-rc.d.
      }
      // Links another tool made that update-rc.d did not take away.
      for (const level of ['0', '1', '2', '3', '4', '5', '6', 'S']) {
        let entries: string[] = [];
        try {
          entries = fs.readdirSync(`/etc/rc${level}.d`);
        } catch {
          continue;
        }
        for (const e of entries) if (/^[SK]\d\d/.test(e) && e.slice(3) === name) fs.rmSync(`/etc/rc${level}.d/${e}`, { force: true });
      }
      fs.rmSync(scriptPath, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
