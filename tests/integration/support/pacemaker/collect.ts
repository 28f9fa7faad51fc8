// Run inside the test cluster's namespaces by agent-facts-pacemaker-live.test.ts: the agent's
// collectFacts exactly as in production (real crm_mon, real /etc/corosync/corosync.conf), printing
// the cluster section as JSON.
import { collectFacts } from '../../../../apps/agent/src/facts/index.ts';

const facts = await collectFacts({
  capabilities: [],
  agentVersion: 'test',
  protocolVersion: 1,
  clockOffsetMs: null,
  collectorTimeoutMs: 20_000,
});
process.stdout.write(JSON.stringify(facts.cluster));
