import { describe, expect, it } from 'vitest';
import { repsetChecks } from './repset.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;
const PAIR = base().pair.id;
const S = base().source!.serverId;
const T = base().target!.serverId;
const pgFile = (patch: { dataDir?: string; walDir?: string | null; tablespaces?: { name: string; location: string }[] } = {}) =>
  withFacts(base(), {
    pair: { app: 'postgres', application: 'postgresql', method: 'file', replicationMethod: 'file', rules: { roots: ['/var/lib/postgresql/16/main'], rules: [] } },
    source: { apps: { postgres: { dataDir: '/var/lib/postgresql/16/main', walDir: null, tablespaces: [], ...patch } } },
  });
const open = (path: string, process: string, pid = 4242) => ({ path, process, pid });

const repsetCases: Case[] = [
  { name: 'incomplete: file server roots are the selection', id: 'repset.incomplete', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'incomplete: PostgreSQL data directory covered', id: 'repset.incomplete', snap: pgFile(), side: 'none', expected: { status: 'good' } },
  {
    name: 'incomplete: new tablespace outside the rules → regenerate (allowed while protected)',
    id: 'repset.incomplete',
    snap: withFacts(pgFile({ tablespaces: [{ name: 'fast', location: '/ssd/pg/fast' }] }), { pair: { protected: true, state: 'protected' } }),
    side: 'none',
    expected: { status: 'error-fixable', findings: [{ subject: 'path=/ssd/pg/fast', actions: ['repset.regenerate'], blocked: false }] },
  },
  { name: 'incomplete: excluded by a rule', id: 'repset.incomplete', snap: withFacts(pgFile({ walDir: '/var/lib/postgresql/16/main/pg_wal' }), { pair: { rules: { roots: ['/var/lib/postgresql/16/main'], rules: [{ pattern: 'pg_wal', include: false, recursive: true }] } } }), side: 'none', expected: { status: 'error-fixable', findings: [{ subject: 'path=/var/lib/postgresql/16/main/pg_wal' }] } },
  { name: 'incomplete: a new share reported by the file server module', id: 'repset.incomplete', snap: withFacts(base(), { source: { apps: { fileserver: { shares: [{ name: 'files', path: '/srv/files' }, { name: 'scans', path: '/srv/scans' }] } } } }), side: 'none', expected: { status: 'error-fixable', findings: [{ subject: 'path=/srv/scans' }] } },

  { name: 'empty: one root', id: 'repset.empty', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'empty: no root', id: 'repset.empty', snap: withFacts(base(), { pair: { rules: { roots: [], rules: [] } } }), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'pair=Main file server', guidance: /Select/ }] } },
  { name: 'empty: no database selected', id: 'repset.empty', snap: withFacts(base(), { pair: { app: 'mariadb', application: 'mariadb', method: 'replication', replicationMethod: 'mariadb_replication', rules: null, selection: { databases: [] } } }), side: 'none', expected: { status: 'warning-manual' } },

  { name: 'foreign-overlap: none', id: 'repset.foreign-overlap', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'foreign-overlap: this pair’s own connection', id: 'repset.foreign-overlap', snap: withFacts(base(), { replication: { connections: [{ id: 'c-own', pairId: PAIR, sourceServerId: S, targetServerId: T, paths: ['/srv/files'], method: 'files', active: true }] } }), side: 'none', expected: { status: 'good' } },
  { name: 'foreign-overlap: a foreign connection over /srv', id: 'repset.foreign-overlap', snap: withFacts(base(), { replication: { connections: [{ id: 'c-x', pairId: null, sourceServerId: S, targetServerId: T, paths: ['/srv'], method: null, active: true }] } }), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'connection=c-x', guidance: /Fold/ }] } },

  { name: 'block-checksum-off: hidden for file servers', id: 'repset.block-checksum-off', snap: withFacts(base(), { replication: { checksumOption: 'size-time' } }), side: 'source', expected: { status: 'hidden' } },
  { name: 'block-checksum-off: block checksum on', id: 'repset.block-checksum-off', snap: pgFile(), side: 'source', expected: { status: 'good' } },
  { name: 'block-checksum-off: size and time', id: 'repset.block-checksum-off', snap: withFacts(pgFile(), { replication: { checksumOption: 'size-time' } }), side: 'source', expected: { status: 'warning-fixable', findings: [{ subject: 'option=differenceMirror', plan: [{ action: 'replication.set-option', key: 'differenceMirror', value: 'block-checksum' }] }] } },

  { name: 'rule-path-missing: root exists', id: 'repset.rule-path-missing', snap: base(), side: 'source', expected: { status: 'good' } },
  {
    name: 'rule-path-missing: include rule names a missing directory',
    id: 'repset.rule-path-missing',
    snap: withFacts(base(), { pair: { rules: { roots: ['/srv/files'], rules: [{ pattern: 'archive', include: true, recursive: true }] } }, source: { paths: [...base().source!.paths!, { path: '/srv/files/archive', exists: false, type: null, owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume: '/srv' }] } }),
    side: 'source',
    expected: { status: 'warning-manual', findings: [{ subject: 'path=/srv/files/archive', guidance: /rule/ }] },
  },

  { name: 'live-database-files: no open files', id: 'repset.live-database-files', snap: base(), side: 'source', expected: { status: 'good' } },
  { name: 'live-database-files: MariaDB under a file share', id: 'repset.live-database-files', snap: withFacts(base(), { source: { openFiles: [open('/srv/files/db/ibdata1', 'mariadbd'), open('/srv/files/db/shop/orders.ibd', 'mariadbd')] } }), side: 'source', expected: { status: 'error-manual', findings: [{ subject: 'path=/srv/files', guidance: /application pair/ }] } },
  { name: 'live-database-files: excluded by a rule', id: 'repset.live-database-files', snap: withFacts(base(), { pair: { rules: { roots: ['/srv/files'], rules: [{ pattern: 'db', include: false, recursive: true }] } }, source: { openFiles: [open('/srv/files/db/ibdata1', 'mariadbd')] } }), side: 'source', expected: { status: 'good' } },
  { name: 'live-database-files: the pair’s own engine is managed', id: 'repset.live-database-files', snap: withFacts(pgFile(), { source: { openFiles: [open('/var/lib/postgresql/16/main/base/5/16384', 'postgres')] } }), side: 'source', expected: { status: 'good' } },

  { name: 'target-files-open: none', id: 'repset.target-files-open', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'target-files-open: a backup tool writing', id: 'repset.target-files-open', snap: withFacts(base(), { target: { openFiles: [open('/srv/files/report.xlsx', 'rsync')] } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'process=rsync', guidance: /service list/ }] } },
  { name: 'target-files-open: a listed service is reported elsewhere', id: 'repset.target-files-open', snap: withFacts(base(), { target: { openFiles: [open('/srv/files/report.xlsx', 'smbd')] } }), side: 'target', expected: { status: 'good' } },
  { name: 'target-files-open: outside the mapped target root', id: 'repset.target-files-open', snap: withFacts(base(), { pair: { pathMap: [{ from: '/srv/files', to: '/replica/files' }] }, target: { openFiles: [open('/srv/files/x', 'vim'), open('/replica/files/y', 'vim')] } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'process=vim' }] } },
];

describe('repset checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(repsetChecks, snapshotFixture())).toEqual([]);
  });

  it.each(repsetCases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(repsetChecks, id, snap, side), expected)).toEqual(expected);
  });
});

describe('repset unknown facts', () => {
  it('missing open-file facts or application facts give unknown', () => {
    const snap = withFacts(base(), { source: { openFiles: undefined, failures: { openFiles: 'lsof missing' } } });
    expect(outcomeOf(repsetChecks, 'repset.live-database-files', snap, 'source').status).toBe('unknown');
    const noPg = withFacts(pgFile(), { source: { apps: { postgres: undefined } } });
    expect(outcomeOf(repsetChecks, 'repset.incomplete', noPg, 'none').status).toBe('unknown');
    const lost = withFacts(base(), { source: null, gatherers: { source: { ok: false, error: 'offline', ms: 0 } } });
    expect(outcomeOf(repsetChecks, 'repset.foreign-overlap', lost, 'none').status).toBe('unknown');
  });

});
