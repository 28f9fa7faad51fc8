import type { CheckDef } from './model.ts';
import type { CheckId } from './ids.ts';
import { evaluateChecks, overallStatus, type EvaluateOptions } from './evaluate.ts';
import type { FactsSnapshot } from './snapshot.ts';
import { agentChecks } from './checks/agent.ts';
import { hooksChecks } from './checks/hooks.ts';
import { platformChecks } from './checks/platform.ts';
import { topologyChecks } from './checks/topology.ts';
import { repsetChecks } from './checks/repset.ts';
import { provisioningChecks } from './checks/provisioning.ts';
import { servicesChecks } from './checks/services.ts';
import { monitorChecks } from './checks/monitor.ts';
import { dnsChecks } from './checks/dns.ts';
import { identityChecks } from './checks/identity.ts';
import { directoryChecks } from './checks/directory.ts';
import { clusterChecks } from './checks/cluster.ts';
import { drillChecks } from './checks/drill.ts';
import { credentialsChecks } from './checks/credentials.ts';
import { readinessChecks } from './checks/readiness.ts';
import { exchangeChecks } from './checks/exchange.ts';
import { sqlserverChecks } from './checks/sqlserver.ts';
import { sharepointChecks } from './checks/sharepoint.ts';
import { fileserverChecks } from './checks/fileserver.ts';
import { postgresChecks } from './checks/postgres.ts';
import { mariadbChecks } from './checks/mariadb.ts';
import { genericServiceChecks } from './checks/generic-service.ts';

// The whole catalogue, family by family in the document's order.
export const catalogue: readonly CheckDef[] = [
  ...agentChecks,
  ...hooksChecks,
  ...platformChecks,
  ...topologyChecks,
  ...repsetChecks,
  ...provisioningChecks,
  ...servicesChecks,
  ...monitorChecks,
  ...dnsChecks,
  ...identityChecks,
  ...directoryChecks,
  ...clusterChecks,
  ...drillChecks,
  ...credentialsChecks,
  ...readinessChecks,
  ...exchangeChecks,
  ...sqlserverChecks,
  ...sharepointChecks,
  ...fileserverChecks,
  ...postgresChecks,
  ...mariadbChecks,
  ...genericServiceChecks,
];

const byId = new Map<string, CheckDef>(catalogue.map((c) => [c.id, c]));
export function checkById(id: string): CheckDef | undefined {
  return byId.get(id);
}
export const severityOf = (id: CheckId) => byId.get(id)?.severity ?? 'error';

/** Evaluates every applicable check of the catalogue over one snapshot. */
export function evaluateCatalogue(snap: FactsSnapshot, opts: EvaluateOptions = {}) {
  const results = evaluateChecks(catalogue, snap, opts);
  return { results, status: overallStatus(results, severityOf) };
}
