import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { canonicalClusterConfig, diffClusterConfig } from './diff.ts';
import { clusterStepFromRow, clusterStepToRow, planClusterBackup, planClusterRestore, type ClusterNode, type ClusterStep } from './plans.ts';

const cib = (value: string, epoch = 5) =>
  `<?xml version="1.0"?>
<cib epoch="${epoch}" admin_epoch="0" num_updates="3"><configuration>
  <crm_config><cluster_property_set id="opts"><nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
  <nodes><node id="1" uname="pcmk1"/></nodes>
  <resources>
    <primitive id="web" class="ocf" provider="pacemaker" type="Dummy">
      <instance_attributes id="web-ia"><nvpair id="web-ia-fake" name="fake" value="${value}"/></instance_attributes>
      <!-- the application -->
    </primitive>
  </resources>
  <constraints/>
</configuration><status/></cib>`;

describe('diffClusterConfig', () => {
  it('canonicalises XML: one element or attribute per line, id on the element line, attributes sorted', () => {
    const a = canonicalClusterConfig(`<primitive type="Dummy" class="ocf" id="web"><x/></primitive>`);
    const b = canonicalClusterConfig(`<primitive   id='web'
        class="ocf"   type="Dummy" ><x></x></primitive>`);
    expect(a).toEqual({ format: 'xml', lines: ['<primitive id="web">', '  class="ocf"', '  type="Dummy"', '  <x/>', '</primitive>'] });
    expect(b).toEqual(a);
  });

  it('shows a changed resource parameter as one removed and one added line, with context naming where it is', () => {
    const d = diffClusterConfig(cib('1'), cib('2', 6), 2);
    expect(d).toMatchObject({ format: 'xml', identical: false, added: 2, removed: 2, tooLarge: false });
    expect(d.hunks).toHaveLength(2);
    const [epoch, param] = d.hunks;
    expect(epoch!.lines.filter((l) => l.op !== ' ').map((l) => `${l.op}${l.text.trim()}`)).toEqual(['-epoch="5"', '+epoch="6"']);
    expect(param!.lines.map((l) => `${l.op}${l.text.trim()}`)).toEqual([' <nvpair id="web-ia-fake">', ' name="fake"', '-value="1"', '+value="2"', ' </nvpair>', ' </instance_attributes>']);
    const removed = param!.lines.find((l) => l.op === '-')!;
    expect(removed.oldLine).toBe(param!.oldStart + 2);
    expect(param!.oldLines).toBe(5);
    expect(param!.newLines).toBe(5);
  });

  it('finds nothing between two spellings of one configuration', () => {
    const d = diffClusterConfig(cib('1'), cib('1').replace('class="ocf" provider="pacemaker"', "provider='pacemaker'   class='ocf'"));
    expect(d).toMatchObject({ identical: true, added: 0, removed: 0, hunks: [] });
  });

  it('compares JSON manifests with sorted keys, and other text line by line', () => {
    const d = diffClusterConfig('{"b":1,"a":{"x":true}}', '{"a":{"x":false},"b":1}');
    expect(d.format).toBe('json');
    expect(d.hunks.flatMap((h) => h.lines).filter((l) => l.op !== ' ').map((l) => l.op + l.text.trim())).toEqual(['-"x": true', '+"x": false']);
    expect(diffClusterConfig('one\ntwo', 'one\nthree').format).toBe('text');
  });

  it('is a shortest edit script: every hunk rebuilds both texts, with as many changes as the longest common subsequence leaves', () => {
    // A deterministic pseudo-random sequence, so a failure can be repeated.
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const lcs = (a: string[], b: string[]) => {
      const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
      return t[0]![0]!;
    };
    for (let round = 0; round < 200; round++) {
      const list = () => Array.from({ length: rnd(14) }, () => 'abcd'[rnd(4)]!);
      const a = list();
      const b = list();
      const d = diffClusterConfig(a.join('\n'), b.join('\n'), 10_000);
      const lines = d.hunks.flatMap((h) => h.lines);
      if (!d.identical) {
        expect(lines.filter((l) => l.op !== '+').map((l) => l.text)).toEqual(a);
        expect(lines.filter((l) => l.op !== '-').map((l) => l.text)).toEqual(b);
      }
      const common = lcs(a, b);
      expect(d.removed).toBe(a.length - common);
      expect(d.added).toBe(b.length - common);
    }
  });
});

const node = (n: number, online = true): ClusterNode => ({ serverId: `00000000-0000-4000-8000-00000000000${n}`, hostname: `pcmk${n}`, online });
const version = { id: '00000000-0000-4000-8000-0000000000aa', sha256: 'ab'.repeat(32) };
const line = (s: ClusterStep) => `${s.kind} ${s.params.hostname}${'state' in s.params ? ` ${s.params.state}` : ''}${'reason' in s.params ? ` ${s.params.reason}` : ''}`;
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).message;
  }
  throw new Error('not refused');
};

describe('planClusterRestore', () => {
  it('orders an authoritative restore: check all, keep the current one, stop the others, replace on one, start the others, verify all', () => {
    const steps = planClusterRestore({ stack: 'pacemaker', clusterName: 'web', nodes: [node(1), node(2), node(3)], restoreOn: node(2).serverId, version });
    expect(steps.map(line)).toEqual([
      'cluster.node-check pcmk1',
      'cluster.node-check pcmk2',
      'cluster.node-check pcmk3',
      'cluster.config-snapshot pcmk2 before_restore',
      'cluster.node-stack pcmk1 stopped',
      'cluster.node-stack pcmk3 stopped',
      'cluster.config-replace pcmk2',
      'cluster.node-stack pcmk1 running',
      'cluster.node-stack pcmk3 running',
      'cluster.config-verify pcmk2',
      'cluster.config-verify pcmk1',
      'cluster.config-verify pcmk3',
    ]);
    const replace = steps.find((s) => s.kind === 'cluster.config-replace')!;
    expect(replace.params).toEqual({ serverId: node(2).serverId, hostname: 'pcmk2', versionId: version.id, sha256: version.sha256, authoritative: false });
    // Every step survives its stored row (JSON), as the worker reads it back.
    for (const s of steps) expect(clusterStepFromRow(JSON.parse(JSON.stringify(clusterStepToRow(s))) as never)).toEqual({ ok: true, step: s });
  });

  it('needs no stop or start for a single node, and marks a Windows restore authoritative', () => {
    const steps = planClusterRestore({ stack: 'windows-failover-cluster', clusterName: 'CLU1', nodes: [node(1)], restoreOn: node(1).serverId, version });
    expect(steps.map(line)).toEqual(['cluster.node-check pcmk1', 'cluster.config-snapshot pcmk1 before_restore', 'cluster.config-replace pcmk1', 'cluster.config-verify pcmk1']);
    expect(steps[2]!.params).toMatchObject({ authoritative: true });
  });

  it('refuses a node outside the cluster and a node whose agent is offline', () => {
    expect(refusal(() => planClusterRestore({ stack: 'pacemaker', clusterName: 'web', nodes: [node(1)], restoreOn: node(2).serverId, version }))).toMatch(/not a node of cluster web/);
    expect(refusal(() => planClusterRestore({ stack: 'pacemaker', clusterName: 'web', nodes: [node(1), node(2, false)], restoreOn: node(1).serverId, version }))).toMatch(/agents on pcmk2 are not online/);
  });
});

describe('planClusterBackup', () => {
  it('reads the configuration on the first online node (or the chosen one)', () => {
    expect(planClusterBackup([node(1, false), node(2)]).map(line)).toEqual(['cluster.node-check pcmk2', 'cluster.config-snapshot pcmk2 manual']);
    expect(planClusterBackup([node(1), node(2)], node(2).serverId).map(line)).toEqual(['cluster.node-check pcmk2', 'cluster.config-snapshot pcmk2 manual']);
    expect(refusal(() => planClusterBackup([node(1, false)]))).toMatch(/No node of this cluster has an online agent/);
  });
});
