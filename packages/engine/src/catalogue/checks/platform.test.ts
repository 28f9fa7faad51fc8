import { describe, expect, it } from 'vitest';
import { platformChecks } from './platform.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { nodeFixture, snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;
const GiB = 2 ** 30;
const srv = (side: 'source' | 'target', free: number, size = 500) => nodeFixture(side).volumes!.map((v) => (v.mountPoint === '/srv' ? { ...v, sizeBytes: size * GiB, freeBytes: free * GiB } : v));
const winSql = (sourceExe: string, targetExe: string) =>
  withFacts(base(), {
    pair: { app: 'sqlserver', application: 'sql_server', method: 'instance', replicationMethod: 'file', services: [{ name: 'MSSQLSERVER', mustStopOnTarget: true }] },
    source: { services: [{ name: 'MSSQLSERVER', state: 'running', startMode: 'auto', account: null, definitionDigest: null, definition: { BinaryPathName: sourceExe }, dependencies: [] }] },
    target: { services: [{ name: 'MSSQLSERVER', state: 'stopped', startMode: 'manual', account: null, definitionDigest: null, definition: { BinaryPathName: targetExe }, dependencies: [] }] },
  });

const cases: Case[] = [
  { name: 'os-unsupported: Debian 12', id: 'platform.os-unsupported', snap: base(), side: 'source', expected: { status: 'good' } },
  { name: 'os-unsupported: Debian 10', id: 'platform.os-unsupported', snap: withFacts(base(), { target: { os: { name: 'Debian GNU/Linux 10 (buster)', version: '10', major: '10' } } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'node=files-b', guidance: /supported/ }] } },
  { name: 'os-unsupported: Windows Server 2012 R2', id: 'platform.os-unsupported', snap: withFacts(base(), { target: { os: { family: 'windows', name: 'Windows Server 2012 R2 Standard', version: '6.3.9600', major: null } } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'node=files-b' }] } },
  { name: 'os-unsupported: Windows Server 2022', id: 'platform.os-unsupported', snap: withFacts(base(), { target: { os: { family: 'windows', name: 'Windows Server 2022 Datacenter', version: '10.0.20348', major: null } } }), side: 'target', expected: { status: 'good' } },
  { name: 'os-unsupported: Exchange on Linux', id: 'platform.os-unsupported', snap: withFacts(base(), { pair: { app: 'exchange', application: 'exchange', method: 'databases' } }), side: 'source', expected: { status: 'error-manual' } },

  { name: 'os-family-mismatch: both Linux', id: 'platform.os-family-mismatch', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'os-family-mismatch: Linux to Windows', id: 'platform.os-family-mismatch', snap: withFacts(base(), { target: { os: { family: 'windows', name: 'Windows Server 2022 Standard' } } }), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'node=files-b', guidance: /same operating-system family/ }] } },

  { name: 'os-major-mismatch: same release', id: 'platform.os-major-mismatch', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'os-major-mismatch: Debian 12 and 11', id: 'platform.os-major-mismatch', snap: withFacts(base(), { target: { os: { name: 'Debian GNU/Linux 11 (bullseye)', version: '11', major: '11' } } }), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'node=files-b' }] } },
  {
    name: 'os-major-mismatch: Windows Server 2019 and 2022 (same NT version)',
    id: 'platform.os-major-mismatch',
    snap: withFacts(base(), { source: { os: { family: 'windows', name: 'Windows Server 2019 Standard', version: '10.0.17763', major: null } }, target: { os: { family: 'windows', name: 'Windows Server 2022 Standard', version: '10.0.20348', major: null } } }),
    side: 'none',
    expected: { status: 'warning-manual' },
  },

  { name: 'volume-missing-on-target: /srv on both', id: 'platform.volume-missing-on-target', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'volume-missing-on-target: /srv missing', id: 'platform.volume-missing-on-target', snap: withFacts(base(), { target: { volumes: nodeFixture('target').volumes!.filter((v) => v.mountPoint !== '/srv') } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'volume=/srv', guidance: /path map/ }] } },
  { name: 'volume-missing-on-target: path-mapped elsewhere', id: 'platform.volume-missing-on-target', snap: withFacts(base(), { pair: { pathMap: [{ from: '/srv/files', to: '/data/files' }] }, target: { volumes: nodeFixture('target').volumes!.filter((v) => v.mountPoint !== '/srv') } }), side: 'target', expected: { status: 'good' } },

  { name: 'install-path-mismatch: hidden for file servers', id: 'platform.install-path-mismatch', snap: base(), side: 'none', expected: { status: 'hidden' } },
  { name: 'install-path-mismatch: same SQL Server binary', id: 'platform.install-path-mismatch', snap: winSql('"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER', '"c:\\program files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER'), side: 'none', expected: { status: 'good' } },
  { name: 'install-path-mismatch: installed on D:', id: 'platform.install-path-mismatch', snap: winSql('"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER', 'D:\\SQL\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe -sMSSQLSERVER'), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'service=MSSQLSERVER', guidance: /Reinstall/ }] } },

  { name: 'target-space-insufficient: 420 GiB free for 40 GiB', id: 'platform.target-space-insufficient', snap: base(), side: 'target', expected: { status: 'good' } },
  {
    name: 'target-space-insufficient: 30 GiB free, nothing present',
    id: 'platform.target-space-insufficient',
    snap: withFacts(base(), { target: { volumes: srv('target', 30), paths: [{ path: '/srv/files', exists: false, type: null, owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume: '/srv' }] } }),
    side: 'target',
    expected: { status: 'error-manual', findings: [{ subject: 'volume=/srv', guidance: /Grow/ }] },
  },
  { name: 'target-space-insufficient: data already present counts', id: 'platform.target-space-insufficient', snap: withFacts(base(), { target: { volumes: srv('target', 5) } }), side: 'target', expected: { status: 'good' } },
  { name: 'target-space-insufficient: path-mapped to another volume', id: 'platform.target-space-insufficient', snap: withFacts(base(), { pair: { pathMap: [{ from: '/srv/files', to: '/data/files' }] }, target: { volumes: [...nodeFixture('target').volumes!, { mountPoint: '/data', fileSystem: 'xfs', sizeBytes: 40 * GiB, freeBytes: 20 * GiB, system: false, features: [] }] } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'volume=/data' }] } },

  { name: 'target-space-low: plenty of headroom', id: 'platform.target-space-low', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'target-space-low: 10 % headroom after the copy', id: 'platform.target-space-low', snap: withFacts(base(), { target: { volumes: srv('target', 50, 100), paths: [] } }), side: 'target', expected: { status: 'warning-manual', findings: [{ subject: 'volume=/srv', guidance: /capacity/ }] } },
  { name: 'target-space-low: full within 30 days at the change rate', id: 'platform.target-space-low', snap: withFacts(base(), { replication: { changeRateBytesPerDay: 20 * GiB } }), side: 'target', expected: { status: 'warning-manual', findings: [{ subject: 'volume=/srv' }] } },

  { name: 'target-capacity-lower: same size', id: 'platform.target-capacity-lower', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'target-capacity-lower: fewer cores', id: 'platform.target-capacity-lower', snap: withFacts(base(), { target: { hw: { cpuCount: 2 } } }), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'node=files-b' }] } },
  { name: 'target-capacity-lower: 85 % of the memory', id: 'platform.target-capacity-lower', snap: withFacts(base(), { target: { hw: { memoryBytes: 0.85 * 16 * GiB } } }), side: 'none', expected: { status: 'warning-manual' } },
  { name: 'target-capacity-lower: policy ratio 0.8 accepts 85 %', id: 'platform.target-capacity-lower', snap: withFacts(base(), { target: { hw: { memoryBytes: 0.85 * 16 * GiB } }, reference: { policy: { capacityMemoryRatio: 0.8 } } }), side: 'none', expected: { status: 'good' } },
];

describe('platform checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(platformChecks, snapshotFixture())).toEqual([]);
  });

  it.each(cases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(platformChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('a missing fact gives unknown, not a crash', () => {
    const snap = withFacts(base(), { target: { volumes: undefined, failures: { volumes: 'df timed out' } } });
    expect(outcomeOf(platformChecks, 'platform.target-space-insufficient', snap, 'target').status).toBe('unknown');
    expect(outcomeOf(platformChecks, 'platform.volume-missing-on-target', snap, 'target').status).toBe('unknown');
  });

  it('an unasked source path is unknown, not good', () => {
    const snap = withFacts(base(), { source: { paths: [] } });
    expect(outcomeOf(platformChecks, 'platform.target-space-insufficient', snap, 'target').status).toBe('unknown');
  });

  it('an unmeasured size falls back on its source volume’s used bytes: good when that fits, unknown when it does not', () => {
    const unmeasured = { source: { paths: [{ ...nodeFixture('source').paths![0]!, usedBytes: null }] } };
    // Source /srv holds 40 GiB in all (500 − 460); the target has 420 GiB free.
    expect(outcomeOf(platformChecks, 'platform.target-space-insufficient', withFacts(base(), unmeasured), 'target').status).toBe('good');
    const tight = withFacts(base(), { ...unmeasured, target: { volumes: srv('target', 10), paths: [] } });
    expect(outcomeOf(platformChecks, 'platform.target-space-insufficient', tight, 'target').status).toBe('unknown');
  });
});
