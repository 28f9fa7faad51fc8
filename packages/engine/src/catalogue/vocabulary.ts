import type { Application, ReplicationMethod } from '../pair/settings.ts';
import type { AppliesTo, CatalogueMethod } from './model.ts';

// The catalogue's words and the code's words for the same things, mapped in this one place.
// The code keeps its names (postgresql, file_server, postgresql_streaming, manualIntervention,
// monitor method "agent"); checks speak the catalogue's.

export const catalogueAppOf: Record<Application, Exclude<AppliesTo, 'any'>> = {
  file_server: 'fileserver',
  generic_service: 'generic-service',
  postgresql: 'postgres',
  mariadb: 'mariadb',
  sql_server: 'sqlserver',
  exchange: 'exchange',
  sharepoint: 'sharepoint',
};

/** The catalogue method a pair runs, from its application and the code's replication method. */
export function catalogueMethodOf(app: Application, method: ReplicationMethod): CatalogueMethod {
  switch (app) {
    case 'file_server':
    case 'generic_service':
      return 'files';
    case 'postgresql':
      return method === 'postgresql_streaming' ? 'streaming' : 'file';
    case 'mariadb':
      return method === 'mariadb_replication' ? 'replication' : 'file';
    case 'sql_server':
      return method === 'sql_log_shipping' ? 'log-shipping' : 'instance';
    case 'exchange':
      return 'databases';
    case 'sharepoint':
      return 'instance';
  }
}

/** Catalogue `approvalRequired` is the code's `manualIntervention`. */
export const approvalRequiredOf = (failover: { manualIntervention: boolean }) => failover.manualIntervention;

/** Catalogue monitor method `agent-heartbeat` is the code's `agent`. */
export const catalogueMonitorMethodOf = (method: 'agent' | 'icmp'): 'agent-heartbeat' | 'icmp' => (method === 'agent' ? 'agent-heartbeat' : 'icmp');
export const codeMonitorMethodOf = (method: 'agent-heartbeat' | 'icmp'): 'agent' | 'icmp' => (method === 'agent-heartbeat' ? 'agent' : 'icmp');
