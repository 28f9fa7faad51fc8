// A real BIND 9 (`named -g`) on 127.0.0.1 for DNS tests: a temp dir with named.conf, the zones
// given and a TSIG key made by `tsig-keygen`, updates and zone transfers allowed for that key only.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export interface BindZone {
  name: string;
  /** Zone file text after the $ORIGIN/$TTL/SOA/NS lines this helper writes. */
  records: string;
  /** Who may send dynamic updates: the key (default), anyone (unsigned too), or nobody. */
  updates?: 'key' | 'any' | 'none';
}

export interface Bind {
  host: string;
  port: number;
  key: { name: string; algorithm: 'hmac-sha256'; secret: string };
  dir: string;
  /** `dig` against this server; returns `+short` lines. */
  dig: (name: string, type: string, extra?: string[]) => Promise<string[]>;
  stop: () => Promise<void>;
}

export async function startBind(zones: BindZone[], keyName = 'tandem-test-key'): Promise<Bind> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bind-'));
  const keyConf = execFileSync('tsig-keygen', ['-a', 'hmac-sha256', keyName], { encoding: 'utf8' });
  const secret = /secret\s+"([^"]+)"/.exec(keyConf)?.[1];
  if (!secret) throw new Error(`tsig-keygen printed no secret:\n${keyConf}`);
  fs.writeFileSync(path.join(dir, 'key.conf'), keyConf);
  const port = await freePort();
  const zoneBlocks = zones.map((z) => {
    const file = `${z.name}.zone`;
    fs.writeFileSync(
      path.join(dir, file),
      `$ORIGIN ${z.name}.\n$TTL 300\n@ IN SOA ns1.${z.name}. hostmaster.${z.name}. 1 3600 600 86400 60\n@ IN NS ns1.${z.name}.\nns1 IN A 127.0.0.1\n${z.records}\n`,
    );
    return `zone "${z.name}" { type primary; file "${path.join(dir, file)}"; allow-update { ${{ key: `key "${keyName}";`, any: 'any;', none: 'none;' }[z.updates ?? 'key']} }; allow-transfer { key "${keyName}"; }; };`;
  });
  fs.writeFileSync(
    path.join(dir, 'named.conf'),
    [
      `include "${path.join(dir, 'key.conf')}";`,
      'options {',
      `  directory "${dir}";`,
      `  pid-file "${path.join(dir, 'named.pid')}";`,
      `  session-keyfile "${path.join(dir, 'session.key')}";`,
      `  managed-keys-directory "${dir}";`,
      `  listen-on port ${port} { 127.0.0.1; };`,
      '  listen-on-v6 { none; };',
      '  recursion no;',
      '  dnssec-validation no;',
      '  notify no;',
      '  allow-query { any; };',
      '};',
      'controls { };',
      ...zoneBlocks,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn('named', ['-g', '-4', '-c', path.join(dir, 'named.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const dig = async (name: string, type: string, extra: string[] = []) => {
    const { stdout } = await run('dig', [
      '@127.0.0.1',
      '-p',
      String(port),
      '+short',
      '+time=2',
      '+tries=1',
      ...extra,
      name,
      type,
    ]);
    return stdout.split('\n').filter((l) => l.trim() !== '');
  };

  // Ready when every zone answers its SOA (named logs "running" before the zones load).
  const until = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`named exited early:\n${output}`);
    const ready = await Promise.all(
      zones.map((z) =>
        dig(z.name, 'SOA').then(
          (l) => l.length > 0,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) break;
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`named did not answer within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    host: '127.0.0.1',
    port,
    key: { name: keyName, algorithm: 'hmac-sha256', secret },
    dir,
    dig,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
