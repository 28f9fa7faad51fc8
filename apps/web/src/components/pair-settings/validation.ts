import { fieldErrors, pairSettingsSchema, type PairSettings } from '@tandem/engine';
import { describeError } from '@/trpc/client';

export type FieldMessages = Record<string, string>;

/** Checks the settings in the browser with the same schema the API uses; field path → message. */
export function validateSettings(
  settings: PairSettings,
): { ok: true; data: PairSettings } | { ok: false; fields: FieldMessages } {
  const r = pairSettingsSchema.safeParse(settings);
  if (r.success) return { ok: true, data: r.data };
  const fields = fieldErrors(r.error);
  // An emptied number box is NaN: say so in words rather than zod's "expected number, received NaN".
  for (const [k, v] of Object.entries(fields)) if (/expected number/i.test(v)) fields[k] = 'Enter a number';
  return { ok: false, fields };
}

/**
 * An API error as a message plus field messages keyed like the form's fields: the input
 * wraps the settings in `settings`, so zod paths arrive as "settings.dns.zone".
 */
export function settingsErrorOf(err: unknown): { message: string; fields: FieldMessages } {
  const { message, fields } = describeError(err);
  const out: FieldMessages = {};
  for (const [k, v] of Object.entries(fields)) out[k.startsWith('settings.') ? k.slice('settings.'.length) : k] = v;
  return { message, fields: out };
}

/** The message for a field, or for anything inside it ("failover.services.2" for "failover.services"). */
export function errorAt(errors: FieldMessages, path: string): string | undefined {
  if (errors[path]) return errors[path];
  const inside = Object.keys(errors).find((k) => k.startsWith(`${path}.`));
  return inside ? errors[inside] : undefined;
}

/** Human names for the field paths, for the summary above a form that did not pass. */
export const fieldNames: Record<string, string> = {
  name: 'Name',
  application: 'Application',
  'failover.services': 'Services to start',
  'failover.extraServices': 'Extra services',
  'failover.clusterResources': 'Cluster resources',
  'failover.monitor.addresses': 'Monitored addresses',
  'failover.monitor.port': 'Monitor port',
  'failover.monitor.intervalSeconds': 'Monitor interval',
  'failover.monitor.missed': 'Missed probes',
  'failover.drainTimeoutSeconds': 'Drain timeout',
  'failover.serviceTimeoutSeconds': 'Service timeout',
  'failover.identity.addresses': 'Addresses to take over',
  'connection.route': 'Replication route',
  'connection.routeMode': 'Data route',
  'connection.port': 'Data port',
  'connection.bandwidthLimitKbps': 'Bandwidth limit',
  'connection.inPlaceFromMiB': 'In place from',
  'connection.targetRoot': 'Target directory',
  'replicationSet.roots': 'Directories to protect',
  'replicationSet.rules': 'Rules',
  'dns.servers': 'DNS servers',
  'dns.zone': 'DNS zone',
  'dns.addressMap': 'Address map',
  'dns.ttlSeconds': 'TTL',
  'dns.credentialId': 'Credential',
  'dns.executorServerId': 'DNS executor',
  'dns.records': 'Records that move at failover',
  'testing.probes': 'Test failover probes',
  'testing.copyMethod': 'Test copy method',
  targetServerId: 'Target server',
};

export function nameOfField(path: string): string {
  const key = Object.keys(fieldNames)
    .sort((a, b) => b.length - a.length)
    .find((k) => path === k || path.startsWith(`${k}.`));
  return key ? fieldNames[key]! : path;
}
