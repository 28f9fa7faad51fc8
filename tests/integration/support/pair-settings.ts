// A complete, valid set of pair settings for tests that need one to reach the check they test.
import type { PairSettings } from '@tandem/engine';

export function validPairSettings(): PairSettings {
  return {
    name: 'Test pair',
    application: 'file_server',
    replicationSet: { roots: ['/srv/data'], rules: [] },
    failover: {
      enabled: false,
      type: 'dns',
      services: ['smbd'],
      extraServices: [],
      clusterResources: [],
      monitor: { method: 'agent', addresses: ['10.0.0.5'], port: 6321, intervalSeconds: 5, missed: 5, trigger: 'all', observers: 'both' },
      manualIntervention: true,
      mode: 'graceful',
      drainTimeoutSeconds: 120,
      onDrainTimeout: 'abort',
      serviceTimeoutSeconds: 120,
      identity: { addresses: [], force: false },
    },
    connection: { route: '10.0.0.6', routeMode: 'direct', port: 6320, mirror: 'checksum', compression: 'off', bandwidthLimitKbps: null, orphans: 'delete', inPlaceFromMiB: null, targetRoot: '/', database: null },
    dns: { servers: [], zone: '', addressMap: [], ttlSeconds: 300, credentialId: null, provider: 'rfc2136', executorServerId: null, records: [], lowerTtlOnEnable: false },
    hooks: { beforeFailover: null, afterFailover: null, beforeFailback: null, afterFailback: null, beforeRestore: null, afterRestore: null },
    testing: { probes: [], copyMethod: 'auto' },
  };
}
