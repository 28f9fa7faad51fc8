// How an agent's application sections ({status:'ok', data} | {status:'unknown', reason}) reach
// NodeFacts: the data for the checks, the reason among the failures.
import { describe, expect, it } from 'vitest';
import type { PairSettings, ValidationFacts } from '@tandem/engine';
import { validPairSettings } from '../../../../tests/integration/support/pair-settings.ts';
import { nodeFacts, validateArgsFor, type NodeInput } from './build-snapshot.ts';

const input = (apps: Record<string, unknown>): NodeInput => ({
  serverId: 's1',
  hostname: 'fs1',
  agent: { id: 'a1', status: 'online', version: '0.1.0', protocolVersion: 1, capabilities: [], lastSeenAt: new Date(0) },
  storedFacts: null,
  validation: { ok: true, facts: { collectedAt: new Date(0).toISOString(), apps } as unknown as ValidationFacts },
  answered: true,
});

describe('application facts in the snapshot', () => {
  const fileServer: PairSettings = validPairSettings();
  const generic: PairSettings = { ...fileServer, application: 'generic_service' };

  it('asks both sides for the pair application’s collector', () => {
    for (const side of ['source', 'target'] as const) {
      expect(validateArgsFor(fileServer, side).apps).toEqual(['fileserver']);
      expect(validateArgsFor(generic, side).apps).toEqual(['generic']);
    }
  });

  it('unwraps an ok section and records an unknown one as a failure', () => {
    const data = { shares: [] };
    expect(nodeFacts(input({ fileserver: { status: 'ok', data } }), fileServer)!.apps.fileserver).toBe(data);
    const unknown = nodeFacts(input({ generic: { status: 'unknown', reason: 'there is no service x on this node' } }), generic)!;
    expect(unknown.apps.generic).toBeUndefined();
    expect(unknown.failures.generic).toBe('there is no service x on this node');
    expect(nodeFacts(input({}), generic)!.failures.generic).toBe('the agent did not report generic facts');
  });
});
