import { testSettingsSchema } from './testing.ts';
import { connectionSettingsSchema, dnsSettingsSchema, failoverSettingsSchema, hooksSchema, type PairSettings } from './settings.ts';
import { replicationSetSchema } from './replication-set.ts';

// A pair's settings live in separate JSON columns of ProtectionPair. These two functions are the
// only translation between the columns and PairSettings (web and worker both use them).

export interface StoredPairColumns {
  name: string;
  application: PairSettings['application'];
  replicationSet: unknown;
  failoverSettings: unknown;
  connectionSettings: unknown;
  dnsSettings: unknown;
  hooks: unknown;
  /** Absent in rows read before test failover existed (the defaults apply). */
  testSettings?: unknown;
}

/** The stored settings, parsed; throws (a ZodError) when they are incomplete or no longer valid. */
export function settingsFromColumns(p: StoredPairColumns): PairSettings {
  const set = p.replicationSet && typeof p.replicationSet === 'object' && Object.keys(p.replicationSet).length ? replicationSetSchema.parse(p.replicationSet) : null;
  return {
    name: p.name,
    application: p.application,
    replicationSet: set,
    failover: failoverSettingsSchema.parse(p.failoverSettings),
    connection: connectionSettingsSchema.parse(p.connectionSettings),
    dns: dnsSettingsSchema.parse(p.dnsSettings ?? {}),
    hooks: hooksSchema.parse(p.hooks ?? {}),
    testing: testSettingsSchema.parse(p.testSettings ?? {}),
  };
}

/** The columns to write for `s` (a file pair's set, or {} for a native method). */
export function settingsToColumns(s: PairSettings) {
  return {
    name: s.name,
    application: s.application,
    replicationSet: (s.replicationSet ?? {}) as object,
    failoverSettings: s.failover as object,
    connectionSettings: s.connection as object,
    dnsSettings: s.dns as object,
    hooks: s.hooks as object,
    testSettings: s.testing as object,
  };
}
