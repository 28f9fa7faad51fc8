import type { RunbookServer } from '@tandem/engine';
import { factsSchema } from './facts.ts';

/**
 * The engine's view of a server for a runbook, from its stored facts and its agent's state (web
 * and worker both plan from it). Facts that no longer fit the schema count as unknown.
 */
export function runbookServer(s: { id: string; hostname: string; osFamily: 'linux' | 'windows'; facts: unknown; agent: { status: string } | null }): RunbookServer {
  const parsed = s.facts ? factsSchema.safeParse(s.facts) : null;
  const f = parsed?.success ? parsed.data : null;
  return {
    id: s.id,
    hostname: s.hostname,
    fqdn: f?.host.status === 'ok' ? f.host.data.fqdn : null,
    osFamily: s.osFamily,
    agentOnline: s.agent?.status === 'online',
    interfaces:
      f?.network.status === 'ok' ? f.network.data.interfaces.map((i) => ({ name: i.name, addresses: i.addresses.map((a) => ({ address: a.address, prefix: a.prefix })) })) : null,
  };
}
