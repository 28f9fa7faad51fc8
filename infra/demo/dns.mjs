// The live demo's DNS server: a real BIND 9 on 127.0.0.1 serving the demo zone and its reverse
// zone, updatable with a TSIG key, so a failover in the portal changes what `dig` answers. The
// zone files are written once; later runs keep BIND's journal (the records as the last failover
// or failback left them).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dataDir, log, spawnService } from '../lib.mjs';

export const DEMO_ZONE = 'demo.tandem.test';
export const DEMO_REVERSE_ZONE = '127.in-addr.arpa';
export const DEMO_DNS_PORT = 53530;
export const DEMO_KEY_NAME = 'tandem-demo-key';
/** The demo source and target "servers": two loopback addresses of this machine. */
export const DEMO_SOURCE_ADDRESS = '127.0.0.2';
export const DEMO_TARGET_ADDRESS = '127.0.0.3';

const dir = path.join(dataDir, 'demo', 'dns');

function zoneFile(name, records) {
  return `$ORIGIN ${name}.\n$TTL 60\n@ IN SOA ns1.${DEMO_ZONE}. hostmaster.${DEMO_ZONE}. 1 3600 600 86400 30\n@ IN NS ns1.${DEMO_ZONE}.\n${records}\n`;
}

function writeOnce(file, text) {
  if (!fs.existsSync(file)) fs.writeFileSync(file, text);
}

/** Writes the configuration (once) and starts `named`; returns the child and the key. */
export async function startDemoDns() {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'key.conf');
  if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, execFileSync('tsig-keygen', ['-a', 'hmac-sha256', DEMO_KEY_NAME], { encoding: 'utf8' }), { mode: 0o600 });
  const secret = /secret\s+"([^"]+)"/.exec(fs.readFileSync(keyFile, 'utf8'))?.[1];
  if (!secret) throw new Error(`${keyFile} holds no TSIG secret; delete it and start again`);

  writeOnce(
    path.join(dir, 'forward.zone'),
    zoneFile(
      DEMO_ZONE,
      [
        'ns1 IN A 127.0.0.1',
        `files IN A ${DEMO_SOURCE_ADDRESS}`,
        `files-a IN A ${DEMO_SOURCE_ADDRESS}`,
        `files-b IN A ${DEMO_TARGET_ADDRESS}`,
        'share IN CNAME files',
        '@ IN MX 10 files',
      ].join('\n'),
    ),
  );
  writeOnce(
    path.join(dir, 'reverse.zone'),
    zoneFile(DEMO_REVERSE_ZONE, [`2.0.0 IN PTR files.${DEMO_ZONE}.`, `3.0.0 IN PTR files-b.${DEMO_ZONE}.`].join('\n')),
  );
  const zone = (name, file) => `zone "${name}" { type primary; file "${path.join(dir, file)}"; allow-update { key "${DEMO_KEY_NAME}"; }; allow-transfer { key "${DEMO_KEY_NAME}"; }; };`;
  fs.writeFileSync(
    path.join(dir, 'named.conf'),
    [
      `include "${keyFile}";`,
      'options {',
      `  directory "${dir}";`,
      `  pid-file "${path.join(dir, 'named.pid')}";`,
      `  session-keyfile "${path.join(dir, 'session.key')}";`,
      `  managed-keys-directory "${dir}";`,
      `  listen-on port ${DEMO_DNS_PORT} { 127.0.0.1; };`,
      '  listen-on-v6 { none; };',
      '  recursion no;',
      '  dnssec-validation no;',
      '  notify no;',
      '  allow-query { 127.0.0.0/8; };',
      '};',
      'controls { };',
      zone(DEMO_ZONE, 'forward.zone'),
      zone(DEMO_REVERSE_ZONE, 'reverse.zone'),
      '',
    ].join('\n'),
  );
  const child = spawnService('dns', 'named', ['-g', '-4', '-c', path.join(dir, 'named.conf')], { logFile: path.join(dir, 'named.log') });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`BIND (named) exited; see ${path.join(dir, 'named.log')}`);
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(DEMO_DNS_PORT), '+short', '+time=1', '+tries=1', DEMO_ZONE, 'SOA'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) break;
    if (Date.now() > deadline) throw new Error(`BIND (named) did not answer on 127.0.0.1:${DEMO_DNS_PORT}; see ${path.join(dir, 'named.log')}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  log(`demo DNS (BIND) serving ${DEMO_ZONE} on 127.0.0.1:${DEMO_DNS_PORT}`);
  return { child, key: { name: DEMO_KEY_NAME, algorithm: 'hmac-sha256', secret } };
}
