// The validation collectors' parsers on fixed inputs (the collectors themselves run against the
// real machine in tests/integration/agent-validate-facts.test.ts).
import { describe, expect, it } from 'vitest';
import { decodeCapabilities, versionFrom } from './agent.ts';
import { sameState } from './fixes.ts';
import { nftChains, nftPortOpen, ufwPortOpen } from './firewall.ts';
import { cloudFromDmi, parseHosts } from './network.ts';
import { decodeProcAddress, openForWriting, parseProcNet } from './processes.ts';
import { parseUnitFiles, sysvAccount } from './services.ts';
import { mountFeatures, mountOf, parseMountInfo } from './storage.ts';
import { parseChronySources, parseChronyTracking, parseNtpqPeers } from './time.ts';

describe('account and interpreters', () => {
  it('decodes CapEff into capability names', () => {
    expect(decodeCapabilities('0000000000000000')).toEqual([]);
    expect(decodeCapabilities('000000000000000d')).toEqual(['CAP_CHOWN', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER']);
    expect(decodeCapabilities('000001ffffffffff')).toHaveLength(41);
    expect(decodeCapabilities('0000100000000000')).toEqual(['CAP_44']);
  });
  it('reads interpreter versions', () => {
    expect(versionFrom('GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)\n')).toBe('5.2.15');
    expect(versionFrom('Python 3.11.2')).toBe('3.11.2');
    expect(versionFrom('PowerShell 7.4.1')).toBe('7.4.1');
    expect(versionFrom('sh: 0: Illegal option --')).toBeNull();
  });
});

describe('mounts', () => {
  const info = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
    '40 22 0:40 / /srv/my\\040data rw,noexec,relatime - xfs /dev/mapper/vg-thin1 rw,attr2,noquota',
    '41 22 0:41 / /mnt/old rw - btrfs /dev/sdb rw',
    '42 22 0:42 / /mnt/old rw - tmpfs tmpfs rw,size=1024k',
  ].join('\n');
  const mounts = parseMountInfo(info);
  it('parses mount points (escapes undone), types and options; the newest mount hides older ones', () => {
    expect(mounts.map((m) => [m.mountPoint, m.fileSystem])).toEqual([
      ['/', 'ext4'],
      ['/srv/my data', 'xfs'],
      ['/mnt/old', 'tmpfs'],
    ]);
    expect(mountOf(mounts, '/srv/my data/pg')?.mountPoint).toBe('/srv/my data');
    expect(mountOf(mounts, '/srv/my database')?.mountPoint).toBe('/');
  });
  it('derives features from options and types', () => {
    expect(mountFeatures(mounts[1]!, new Set(['/dev/mapper/vg-thin1']))).toEqual(['acl', 'user_xattr', 'noexec', 'lvm-thin']);
    expect(mountFeatures({ mountPoint: '/x', fileSystem: 'ext4', source: '/dev/sdc', options: ['rw', 'noacl'] }, new Set())).toEqual(['user_xattr']);
    expect(mountFeatures({ mountPoint: '/x', fileSystem: 'btrfs', source: '/dev/sdc', options: ['ro'] }, new Set())).toEqual(['acl', 'user_xattr', 'ro', 'btrfs']);
  });
});

describe('nftables', () => {
  const ruleset = (rules: unknown[][], policy = 'accept', extra: unknown[] = []) => ({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { table: { family: 'inet', name: 'filter' } },
      { chain: { family: 'inet', table: 'filter', name: 'input', type: 'filter', hook: 'input', prio: 0, policy } },
      { chain: { family: 'inet', table: 'filter', name: 'svc' } },
      ...rules.map((expr) => ({ rule: { family: 'inet', table: 'filter', chain: 'input', expr } })),
      ...extra,
    ],
  });
  const dport = (proto: string, right: unknown) => ({ match: { op: '==', left: { payload: { protocol: proto, field: 'dport' } }, right } });
  const ct = (right: unknown) => ({ match: { op: 'in', left: { ct: { key: 'state' } }, right } });
  const tcp = (port: number) => ({ port, protocol: 'tcp' as const });

  it('follows accept and drop rules, sets, ranges and the chain policy', () => {
    const chains = nftChains(ruleset([[ct(['established', 'related']), { accept: null }], [dport('tcp', { set: [22, { range: [8000, 8100] }] }), { counter: null }, { accept: null }], [dport('udp', 5000), { accept: null }]], 'drop'));
    expect(nftPortOpen(chains, tcp(22))).toBe(true);
    expect(nftPortOpen(chains, tcp(8050))).toBe(true);
    expect(nftPortOpen(chains, tcp(5000))).toBe(false);
    expect(nftPortOpen(chains, { port: 5000, protocol: 'udp' })).toBe(true);
  });
  it('skips rules limited to some addresses or interfaces; a drop of the port itself closes it', () => {
    const saddr = { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: '10.0.0.0', len: 8 } } } };
    const chains = nftChains(ruleset([[saddr, dport('tcp', 443), { accept: null }], [dport('tcp', 80), { drop: null }]], 'drop'));
    expect(nftPortOpen(chains, tcp(443))).toBe(false);
    expect(nftPortOpen(chains, tcp(80))).toBe(false);
    expect(nftPortOpen(nftChains(ruleset([[dport('tcp', 80), { drop: null }]])), tcp(81))).toBe(true);
  });
  it('follows jumps, and answers null for what it cannot judge', () => {
    const jump = nftChains(
      ruleset([[{ jump: { target: 'svc' } }]], 'drop', [{ rule: { family: 'inet', table: 'filter', chain: 'svc', expr: [dport('tcp', 5432), { accept: null }] } }]),
    );
    expect(nftPortOpen(jump, tcp(5432))).toBe(true);
    expect(nftPortOpen(jump, tcp(5433))).toBe(false);
    expect(nftPortOpen(nftChains(ruleset([[dport('tcp', '@allowed'), { accept: null }]], 'drop')), tcp(22))).toBeNull();
  });
  it('a ruleset without input chains filters nothing', () => {
    expect(nftPortOpen(nftChains({ nftables: [] }), tcp(22))).toBe(true);
  });
});

describe('ufw', () => {
  const status = 'Status: active\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n\nTo                         Action      From\n--                         ------      ----\n22/tcp                     ALLOW IN    Anywhere\n6000:6010/udp              ALLOW IN    Anywhere\n5432                       ALLOW IN    10.0.0.0/8\n';
  it('reads rules for anywhere and the default policy', () => {
    expect(ufwPortOpen(status, { port: 22, protocol: 'tcp' })).toBe(true);
    expect(ufwPortOpen(status, { port: 6005, protocol: 'udp' })).toBe(true);
    expect(ufwPortOpen(status, { port: 5432, protocol: 'tcp' })).toBe(false);
  });
});

describe('time', () => {
  it('reads chrony and ntpq', () => {
    expect(parseChronyTracking('Reference ID    : C0A80101 (gw)\nSystem time     : 0.000001 seconds fast of NTP time\nLeap status     : Normal\n')).toEqual({ synchronized: true, offset: '0.000001 seconds fast of NTP time' });
    expect(parseChronyTracking('Leap status     : Not synchronised\n').synchronized).toBe(false);
    expect(parseChronySources('^,*,192.0.2.1,2,6,377,10,0.1,0.2,0.3\n^,+,192.0.2.2,2,6,377,10,0.1,0.2,0.3\n=,?,peer,1,1,1,1,1,1,1\n')).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(parseNtpqPeers('     remote           refid      st t when poll reach   delay   offset  jitter\n==============================================================================\n*192.0.2.1       .GPS.            1 u   33   64  377    0.5   0.01   0.02\n+192.0.2.2       192.0.2.1        2 u   12   64  377    0.6   0.02   0.03\n')).toEqual({ sources: ['192.0.2.1', '192.0.2.2'], synchronized: true });
  });
});

describe('services', () => {
  it('merges unit files and drop-ins', () => {
    const unit = '[Unit]\nRequires=network-online.target\nWants=a.service b.service\n[Service]\nExecStart=/usr/bin/app \\\n  --flag\nUser=app\nEnvironment=A=1\n';
    const dropIn = '[Service]\nUser=\nUser=other\nEnvironment=B=2\nWorkingDirectory=/srv/app\n';
    expect(parseUnitFiles([unit, dropIn])).toEqual({
      service: { ExecStart: '/usr/bin/app    --flag', User: 'other', Environment: 'A=1 B=2', WorkingDirectory: '/srv/app' },
      deps: ['network-online.target', 'a.service', 'b.service'],
    });
  });
  it('finds the user an init script switches to', () => {
    expect(sysvAccount('start-stop-daemon --start --chuid postgres:postgres --exec /x')).toBe('postgres');
    expect(sysvAccount('start-stop-daemon --start -c redis --exec /x')).toBe('redis');
    expect(sysvAccount('su - app -c "/opt/app/run"')).toBe('app');
    expect(sysvAccount('runuser -u svc -- /bin/x')).toBe('svc');
    expect(sysvAccount('USER="www"\n')).toBe('www');
    expect(sysvAccount('#!/bin/sh\nsleep 600 &\n')).toBeNull();
  });
});

describe('processes and hosts', () => {
  it('decodes /proc/net addresses and listening sockets', () => {
    expect(decodeProcAddress('0100007F')).toBe('127.0.0.1');
    expect(decodeProcAddress('00000000000000000000000001000000')).toBe('::1');
    expect(decodeProcAddress('00000000000000000000000000000000')).toBe('::');
    expect(decodeProcAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(decodeProcAddress('000080FE00000000FF00FC00010000FE')).toBe('fe80::fc:ff:fe00:1');
    const tcp = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1\n   1: 0100007F:1F91 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 112 1\n';
    expect(parseProcNet(tcp, 'tcp')).toEqual([{ protocol: 'tcp', address: '127.0.0.1', port: 8080, inode: '111' }]);
  });
  it('tells a file open for writing from one open for reading', () => {
    expect(openForWriting('pos:\t0\nflags:\t02102001\n')).toBe(true);
    expect(openForWriting('pos:\t0\nflags:\t0100002\n')).toBe(true);
    expect(openForWriting('pos:\t0\nflags:\t02100000\n')).toBe(false);
  });
  it('parses /etc/hosts', () => {
    expect(parseHosts('# comment\n127.0.0.1 localhost\n\n192.0.2.7  db.example.com db # primary\n')).toEqual([
      { address: '127.0.0.1', names: ['localhost'] },
      { address: '192.0.2.7', names: ['db.example.com', 'db'] },
    ]);
  });
  it('names clouds and hypervisors from DMI', () => {
    const dmi = (sysVendor: string, productName = '', chassisAssetTag = '') => cloudFromDmi({ sysVendor, productName, biosVendor: '', chassisAssetTag });
    expect(dmi('Amazon EC2')).toEqual({ platform: 'aws', network: 'vpc' });
    expect(dmi('Microsoft Corporation', 'Virtual Machine', '7783-7084-3265-9085-8269-3286-77')).toEqual({ platform: 'azure', network: 'vpc' });
    expect(dmi('Microsoft Corporation', 'Virtual Machine')).toEqual({ platform: 'hyper-v', network: null });
    expect(dmi('QEMU', 'Standard PC (Q35 + ICH9, 2009)')).toEqual({ platform: 'kvm', network: null });
    expect(dmi('Dell Inc.', 'PowerEdge R740')).toBeNull();
  });
});

describe('fs.ensure-path states', () => {
  const state = { exists: true, isDirectory: true, uid: 26, mode: 0o700, text: 'postgres 0700' };
  const uidOf = (n: string) => (n === 'postgres' ? 26 : null);
  it('compares a plan\'s "owner mode" with what is there', () => {
    expect(sameState('postgres 0700', state, uidOf)).toBe(true);
    expect(sameState('postgres 700', state, uidOf)).toBe(true);
    expect(sameState('26 0o700', state, uidOf)).toBe(true);
    expect(sameState('postgres 0750', state, uidOf)).toBe(false);
    expect(sameState('root 0700', state, uidOf)).toBe(false);
    expect(sameState('absent', state, uidOf)).toBe(false);
    expect(sameState('absent', { ...state, exists: false }, uidOf)).toBe(true);
  });
});
