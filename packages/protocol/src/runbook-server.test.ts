import { describe, expect, it } from 'vitest';
import type { ClusterFacts } from './facts.ts';
import { runbookCluster } from './runbook-server.ts';

// Which node of the cluster a server is: the planner places resources on it.

const facts = (nodes: string[]): ClusterFacts => ({
  stack: 'pacemaker',
  name: 'web',
  quorate: true,
  nodes: nodes.map((name) => ({ name, online: true })),
  resources: [{ id: 'vip', type: 'ocf:heartbeat:IPaddr2', role: 'Started', node: nodes[0] ?? null, group: 'g', targetRole: null }],
  groups: [{ id: 'g', resources: ['vip'], node: nodes[0] ?? null }],
  constraints: [],
  fencing: null,
});

describe('runbookCluster', () => {
  it('finds the node named like the server (any case, or by its first label), else the only node', () => {
    expect(runbookCluster(facts(['pcmk1', 'PCMK2']), 'pcmk2').node).toBe('PCMK2');
    expect(runbookCluster(facts(['pcmk1', 'pcmk2.corp.example']), 'pcmk2.other').node).toBe('pcmk2.corp.example');
    expect(runbookCluster(facts(['solo']), 'host-registered-otherwise').node).toBe('solo');
    expect(runbookCluster(facts(['a', 'b']), 'c').node).toBeNull();
  });

  it('keeps the stack, name, resources and groups the planner needs', () => {
    expect(runbookCluster(facts(['pcmk1']), 'pcmk1')).toEqual({
      stack: 'pacemaker',
      name: 'web',
      node: 'pcmk1',
      resources: [{ id: 'vip', group: 'g', node: 'pcmk1' }],
      groups: [{ id: 'g', resources: ['vip'], node: 'pcmk1' }],
    });
  });
});
