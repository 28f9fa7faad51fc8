// Pacemaker cluster facts against recorded crm_mon XML and cibadmin --query output
// (tests/fixtures/pacemaker): the agent runs on this machine, except that crm_mon and cibadmin
// "exist" and answer from fixtures, and corosync.conf is a recorded one. The Windows failover cluster is covered in agent-facts-windows.test.ts.
import { readFile, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { factsSchema } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { runCommand, type CommandResult, type CommandRunner } from '../../apps/agent/src/exec.ts';
import { parseCrmMonXml } from '../../apps/agent/src/facts/cluster.ts';
import { collectFacts, type CollectFactsOptions } from '../../apps/agent/src/facts/index.ts';
import { parseXml } from '../../apps/agent/src/facts/xml.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../fixtures/pacemaker', name), 'utf8');
const CRM_MON = '/usr/sbin/crm_mon';
const CIBADMIN = '/usr/sbin/cibadmin';
// Pacemaker 1.1 nodes in these tests: the CIB is not readable (the collector keeps crm_mon's view).
const NO_CIB: CommandResult = {
  code: 107,
  stdout: '',
  stderr: 'Call cib_query failed (-107): Transport endpoint is not connected\n',
};

interface Setup {
  crmMon: CommandResult | ((args: string[]) => CommandResult);
  cibadmin?: CommandResult;
  corosync: string | null;
  installed?: boolean;
}

function options({ crmMon, cibadmin = NO_CIB, corosync, installed = true }: Setup, calls: string[][]): CollectFactsOptions {
  const run: CommandRunner = (cmd, args, opts) => {
    if (cmd === CIBADMIN) {
      calls.push(['cibadmin', ...args]);
      return Promise.resolve(cibadmin);
    }
    if (cmd !== CRM_MON) return runCommand(cmd, args, opts);
    calls.push(args);
    return Promise.resolve(typeof crmMon === 'function' ? crmMon(args) : crmMon);
  };
  return {
    capabilities: [],
    agentVersion: 'test',
    protocolVersion: 1,
    clockOffsetMs: null,
    run,
    readFile: (file) => {
      if (file !== '/etc/corosync/corosync.conf') return readFile(file, 'utf8');
      return corosync === null
        ? Promise.reject(new Error(`ENOENT: no such file or directory, open '${file}'`))
        : Promise.resolve(corosync);
    },
    stat: async (file) => {
      // Whether crm_mon "exists" is the test's choice, whatever this machine has installed.
      if ((file === CRM_MON || file === CIBADMIN) && installed)
        return { uid: 0, gid: 0, mode: 0o100755, isFile: true, isDirectory: false };
      if (path.basename(file) === 'crm_mon' || path.basename(file) === 'cibadmin') {
        throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${file}'`), { code: 'ENOENT' });
      }
      const s = await stat(file);
      return { uid: s.uid, gid: s.gid, mode: s.mode, isFile: s.isFile(), isDirectory: s.isDirectory() };
    },
  };
}

describe('Pacemaker cluster facts (recorded output)', () => {
  it('parses crm_mon 2.x XML and the CIB: name, quorum, nodes, resources in clones and groups, constraints, target-role, fencing', async () => {
    const calls: string[][] = [];
    const facts = await collectFacts(
      options(
        {
          crmMon: { code: 0, stdout: fixture('crm_mon-2.1.xml'), stderr: '' },
          cibadmin: { code: 0, stdout: fixture('cib-configuration-2.1.xml'), stderr: '' },
          corosync: fixture('corosync.conf'),
        },
        calls,
      ),
    );
    expect(() => factsSchema.parse(facts)).not.toThrow();
    expect(calls).toEqual([
      ['-1', '--output-as=xml'],
      ['cibadmin', '--query', '--scope', 'configuration'],
    ]);
    expect(facts.cluster).toEqual({
      status: 'ok',
      data: {
        stack: 'pacemaker',
        name: 'pgcluster',
        quorate: true,
        nodes: [
          { name: 'db1', online: true },
          { name: 'db2', online: true },
        ],
        resources: [
          { id: 'fence-db1', type: 'stonith:fence_ipmilan', role: 'Started', node: 'db2', group: null, targetRole: null },
          { id: 'fence-db2', type: 'stonith:fence_ipmilan', role: 'Started', node: 'db1', group: null, targetRole: null },
          { id: 'pgsql', type: 'ocf:heartbeat:pgsql', role: 'Promoted', node: 'db1', group: null, targetRole: null },
          { id: 'pgsql', type: 'ocf:heartbeat:pgsql', role: 'Unpromoted', node: 'db2', group: null, targetRole: null },
          { id: 'vip', type: 'ocf:heartbeat:IPaddr2', role: 'Started', node: 'db1', group: 'web', targetRole: null },
          { id: 'nginx', type: 'systemd:nginx', role: 'Stopped', node: null, group: 'web', targetRole: 'Stopped' },
        ],
        groups: [{ id: 'web', resources: ['vip', 'nginx'], node: 'db1' }],
        constraints: [
          { id: 'location-fence-db1-db1', kind: 'location', resource: 'fence-db1', node: 'db1', with: null, score: '-INFINITY' },
          { id: 'location-fence-db2-db2', kind: 'location', resource: 'fence-db2', node: 'db2', with: null, score: '-INFINITY' },
          {
            id: 'colocation-web-pgsql-clone',
            kind: 'colocation',
            resource: 'web',
            node: null,
            with: 'pgsql-clone',
            score: 'INFINITY',
          },
          { id: 'order-pgsql-clone-web', kind: 'order', resource: 'pgsql-clone', node: null, with: 'web', score: null },
          { id: 'ticket-site-a-web', kind: 'ticket', resource: 'web', node: null, with: 'site-a', score: null },
        ],
        fencing: { enabled: true, devices: 2 },
      },
    });
    // The other sections are this machine's, untouched by the fake crm_mon.
    expect(facts.host.status).toBe('ok');
  });

  it('falls back to crm_mon -X for Pacemaker 1.1 and reads a partition without quorum', async () => {
    const calls: string[][] = [];
    const crmMon = (args: string[]): CommandResult =>
      args.includes('--output-as=xml')
        ? { code: 64, stdout: '', stderr: "crm_mon: unrecognized option '--output-as=xml'\n" }
        : { code: 0, stdout: fixture('crm_mon-1.1.xml'), stderr: '' };
    const facts = await collectFacts(options({ crmMon, corosync: 'totem {\n  version: 2\n  cluster_name: nfs\n}\n' }, calls));
    expect(calls).toEqual([
      ['-1', '--output-as=xml'],
      ['-1', '-X'],
      ['cibadmin', '--query', '--scope', 'configuration'],
    ]);
    expect(facts.cluster).toEqual({
      status: 'ok',
      data: {
        stack: 'pacemaker',
        name: 'nfs',
        quorate: false,
        nodes: [
          { name: 'nfs1', online: true },
          { name: 'nfs2', online: false },
        ],
        resources: [
          { id: 'nfs_fs', type: 'ocf::heartbeat:Filesystem', role: 'Started', node: 'nfs1', group: 'nfsgroup', targetRole: null },
          { id: 'nfs_ip', type: 'ocf::heartbeat:IPaddr2', role: 'Started', node: 'nfs1', group: 'nfsgroup', targetRole: null },
          { id: 'fence_nfs2', type: 'stonith:fence_vmware_soap', role: 'Stopped', node: null, group: null, targetRole: null },
        ],
        // The CIB was not readable: crm_mon's stonith-enabled and stonith resources, no constraints.
        groups: [{ id: 'nfsgroup', resources: ['nfs_fs', 'nfs_ip'], node: 'nfs1' }],
        constraints: [],
        fencing: { enabled: true, devices: 1 },
      },
    });
  });

  it('reports unknown when this node is configured for a cluster but Pacemaker is not running', async () => {
    const facts = await collectFacts(
      options(
        {
          crmMon: {
            code: 102,
            stdout: fixture('crm_mon-not-running.xml'),
            stderr: 'crm_mon: Error: cluster is not available on this node\n',
          },
          corosync: fixture('corosync.conf'),
        },
        [],
      ),
    );
    expect(facts.cluster).toEqual({
      status: 'unknown',
      reason:
        'Pacemaker is configured (/etc/corosync/corosync.conf) but crm_mon failed (exit 102): crm_mon: Error: cluster is not available on this node',
    });
  });

  it('reports no cluster when Pacemaker is installed but never configured, or not installed', async () => {
    const notRunning = { code: 102, stdout: fixture('crm_mon-not-running.xml'), stderr: '' };
    const unconfigured = await collectFacts(options({ crmMon: notRunning, corosync: null }, []));
    expect(unconfigured.cluster).toEqual({ status: 'ok', data: null });

    const calls: string[][] = [];
    const absent = await collectFacts(
      options({ crmMon: notRunning, corosync: fixture('corosync.conf'), installed: false }, calls),
    );
    expect(absent.cluster).toEqual({ status: 'ok', data: null });
    expect(calls).toEqual([]); // crm_mon is not on this machine: never run.
  });

  it('rejects malformed crm_mon output', () => {
    expect(() => parseCrmMonXml('<pacemaker-result><summary></pacemaker-result>', null)).toThrow(/XML/);
    expect(() => parseCrmMonXml('crm_mon: command not found', null)).toThrow(/no element/);
    expect(() => parseCrmMonXml('<crm-mon-disconnected description="Waiting for CIB"/>', null)).toThrow(/not connected/);
    expect(parseXml('<a x="1 &amp; 2" y=\'&lt;&#65;&#x42;\'><!-- c --><b/></a>').children[0]).toEqual({
      name: 'a',
      attrs: { x: '1 & 2', y: '<AB' },
      children: [{ name: 'b', attrs: {}, children: [] }],
    });
  });
});
