import { describe, expect, it } from 'vitest';
import { appRowOutcome, type AppRow } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import { withFacts } from '../fixtures.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { fileserverChecks } from './fileserver.ts';
import type { FileServerShare, FileserverFacts } from '../apps/fileserver.ts';
import { fileserverFacts, fileserverSnapshot } from '../apps/fixtures.ts';

// Table-driven: the healthy Samba pair is good for every fileserver check; each row bends one
// fact and expects exactly these findings.

const byId = (id: string) => fileserverChecks.find((x) => x.id === id)!;

function patch(side: 'source' | 'target', p: Partial<FileserverFacts>, snap = fileserverSnapshot()): FactsSnapshot {
  const node = snap[side]!;
  return { ...snap, [side]: { ...node, apps: { ...node.apps, fileserver: { ...(node.apps.fileserver as FileserverFacts), ...p } } } };
}
const share = (over: Partial<FileServerShare>): FileServerShare => ({ ...fileserverFacts('source').shares[0]!, ...over });
const svc = (name: string, state: 'running' | 'stopped', startMode: 'auto' | 'manual' | 'disabled', dependencies: string[] = []) => ({ name, state, startMode, account: null, definitionDigest: null, definition: null, dependencies });
const targetServices = (snap: FactsSnapshot, services: ReturnType<typeof svc>[]) => ({ ...snap, target: { ...snap.target!, services } });

type Row = AppRow;

const rows: Row[] = [
  {
    name: 'a share outside the roots and a nested mount excluded',
    check: 'fileserver.share-path-not-replicated',
    snap: () =>
      withFacts(patch('source', { shares: [share({ nestedMounts: ['/srv/files/archive'] }), share({ name: 'scans', path: '/data/scans' })] }), { pair: { rules: { roots: ['/srv/files'], rules: [{ pattern: 'archive', include: false, recursive: true }] } } }),
    want: [
      { subject: 'share=files', status: 'error-fixable', side: 'none', plan: [{ action: 'repset.add-rule', path: '/srv/files/archive', include: true, recursive: true }] },
      { subject: 'share=scans', status: 'error-fixable', plan: [{ action: 'repset.add-rule', path: '/data/scans', include: true, recursive: true }] },
    ],
  },
  { name: 'a later include brings a subtree back', check: 'fileserver.share-path-not-replicated', snap: () => withFacts(patch('source', { shares: [share({ path: '/srv/files/docs' })] }), { pair: { rules: { roots: ['/srv/files'], rules: [{ pattern: '*', include: false, recursive: true }, { pattern: 'docs', include: true, recursive: true }] } } }), want: [] },
  {
    name: 'no SMB server and a conflicting share on the target',
    check: 'fileserver.share-cannot-publish-on-target',
    snap: () => patch('target', { servers: { smb: { installed: false, service: null }, nfs: { installed: false, service: null } }, shares: [share({ path: '/srv/old-files' })] }),
    want: [
      { subject: 'server=smb', status: 'error-manual', side: 'target', guidance: /Install/ },
      { subject: 'share=files', status: 'error-manual' },
    ],
  },
  {
    name: 'the target serves the replica writable',
    check: 'fileserver.share-live-on-target',
    snap: () => targetServices(patch('target', { shares: [share({})] }), [svc('smbd', 'running', 'auto')]),
    want: [{ subject: 'share=files', status: 'error-fixable', side: 'target', plan: [{ action: 'app', node: 'target', app: 'fileserver', op: 'unpublish', params: { share: 'files', protocol: 'smb' } }] }],
  },
  { name: 'a share defined while smbd is stopped and disabled is not live', check: 'fileserver.share-live-on-target', snap: () => patch('target', { shares: [share({})] }), want: [] },
  { name: 'a read-only pre-staged share is fine', check: 'fileserver.share-live-on-target', snap: () => targetServices(patch('target', { shares: [share({ readOnly: true })] }), [svc('smbd', 'running', 'auto')]), want: [] },
  {
    name: 'the target volume is mounted without ACLs or xattrs',
    check: 'fileserver.acl-unsupported-on-target',
    snap: () => {
      const s = fileserverSnapshot();
      return { ...s, target: { ...s.target!, volumes: s.target!.volumes!.map((v) => (v.mountPoint === '/srv' ? { ...v, features: ['noacl'] } : v)) } };
    },
    want: [{ subject: 'path=/srv/files', status: 'error-manual', side: 'target', guidance: /acl and user_xattr/ }],
  },
  {
    name: 'a local uid missing and a gid named otherwise on the target',
    check: 'fileserver.principals-unresolvable',
    snap: () => patch('target', { principals: [{ id: 'gid:1001', name: 'printers', local: true }] }),
    want: [
      { subject: 'principal=scanner', status: 'warning-manual', side: 'target', guidance: /same uid\/gid/ },
      { subject: 'principal=scans', status: 'warning-manual' },
    ],
  },
  {
    name: 'SMB signing not required on the target',
    check: 'fileserver.server-config-differs',
    snap: () => patch('target', { serverConfig: { ...fileserverFacts('target').serverConfig, 'smb.signing': 'auto' } }),
    want: [{ subject: 'setting=smb.signing', status: 'warning-fixable', side: 'none', plan: [{ action: 'app', node: 'target', app: 'fileserver', op: 'set-server-config', params: { settings: { 'smb.signing': 'mandatory' } }, before: 'auto', after: 'mandatory' }] }],
  },
  {
    name: 'the share is a DFS folder target',
    check: 'fileserver.dfs-namespace-target',
    snap: () => patch('source', { dfsLinks: [{ namespace: '\\\\corp.example.com\\dfs', link: 'files', targets: ['\\\\files-a.corp.example.com\\files'] }, { namespace: '\\\\corp.example.com\\dfs', link: 'other', targets: ['\\\\nas-9\\x'] }] }),
    want: [{ subject: 'link=\\\\corp.example.com\\dfs\\files', status: 'warning-manual', guidance: /folder target/ }],
  },
  { name: 'an NFS export with DNS failover', check: 'fileserver.nfs-handles-will-go-stale', snap: () => patch('source', { shares: [share({ protocol: 'nfs', name: '/srv/files', options: { rw: '', sync: '' } })] }), want: [{ subject: 'export=/srv/files', status: 'warning-manual', guidance: /remount/ }] },
  { name: 'an NFS export with identity failover', check: 'fileserver.nfs-handles-will-go-stale', snap: () => withFacts(patch('source', { shares: [share({ protocol: 'nfs' })] }), { pair: { failover: { mode: 'identity' } } }), want: [] },
  {
    name: 'the target serves other shares and a dependent service',
    check: 'fileserver.target-not-dedicated',
    snap: () => targetServices(patch('target', { shares: [share({ name: 'projects', path: '/srv/projects' }), share({ name: 'print$', path: '/var/lib/samba/printers' })] }), [svc('smbd', 'stopped', 'disabled'), svc('winbind-helper', 'running', 'auto', ['smbd'])]),
    want: [
      { subject: 'share=projects', status: 'warning-manual', side: 'target', guidance: /dedicated standby/ },
      { subject: 'service=winbind-helper', status: 'warning-manual' },
    ],
  },
];

describe('fileserver checks', () => {
  it('finds nothing on the healthy Samba pair', () => {
    const results = evaluateChecks(fileserverChecks, fileserverSnapshot());
    expect(results.filter((r) => r.status !== 'good').map((r) => [r.checkId, r.unknown?.reason ?? r.findings.map((f) => f.message)])).toEqual([]);
    expect(results).toHaveLength(fileserverChecks.length);
  });

  it.each(rows)('$check: $name', (row) => {
    const { actual, expected } = appRowOutcome(fileserverChecks, row);
    expect(actual).toEqual(expected);
  });

  it('is unknown, never a crash, when file server facts are missing or malformed', () => {
    const s = fileserverSnapshot();
    const missing = { ...s, source: { ...s.source!, apps: {}, failures: { fileserver: 'smbd configuration unreadable' } } };
    for (const r of evaluateChecks(fileserverChecks, missing).filter((x) => byId(x.checkId).facts.includes('S.app.fileserver'))) {
      expect(r.status).toBe('unknown');
      expect(r.unknown?.reason).toMatch(/unreadable/);
    }
    const malformed = { ...s, target: { ...s.target!, apps: { fileserver: { shares: 'all' } } } };
    const [r] = evaluateChecks([byId('fileserver.server-config-differs')], malformed);
    expect(r!.status).toBe('unknown');
    expect(r!.unknown?.reason).toMatch(/not in the expected form/);
  });
});
