'use client';

// The pair settings form: used by the new-protection wizard and by "Edit configuration".
// Controlled: the caller owns the PairSettings value and the field messages (client-side
// pairSettingsSchema checks plus the API's field errors), keyed by path like "dns.zone".
// One component per section, each in its own file beside this one.
import { replicationMethodFor, type PairSettings } from '@tandem/engine';
import { ConnectionSection } from './connection-section';
import type { DnsDiscoveryContext } from './dns-records-picker';
import { DnsSection } from './dns-section';
import { FailoverSection } from './failover-section';
import { GeneralSection } from './general-section';
import { HooksSection } from './hooks-section';
import { ReplicationSetSection } from './replication-set-section';
import { TestingSection } from './testing-section';
import type { CredentialOption, PostgresInstanceOption } from './types';
import { errorAt, type FieldMessages } from './validation';

export type { CredentialOption, PostgresInstanceOption } from './types';

export function PairSettingsForm({
  value,
  onChange,
  errors,
  sourceAddresses,
  targetAddresses,
  credentials,
  sourceHostname,
  targetHostname,
  postgres,
  servers = [],
  discovery = null,
}: {
  value: PairSettings;
  onChange: (next: PairSettings) => void;
  errors: FieldMessages;
  sourceAddresses: string[];
  targetAddresses: string[];
  credentials: CredentialOption[];
  sourceHostname: string;
  targetHostname: string;
  /** PostgreSQL pairs: the instances each side reports. */
  postgres?: { source: PostgresInstanceOption[]; target: PostgresInstanceOption[] } | null;
  /** The customer's servers (the DNS executor choice). */
  servers?: { id: string; hostname: string }[];
  /** Who "Discover records" asks about; null: not possible yet. */
  discovery?: DnsDiscoveryContext | null;
}) {
  const s = value;
  const err = (path: string) => errorAt(errors, path);
  const method = replicationMethodFor[s.application];
  const showReplicationSet = !(s.replicationSet === null && method !== 'file');
  const showDns = s.failover.type === 'dns';
  const section = { value: s, onChange, err };

  return (
    <div data-testid="pair-settings-form">
      <GeneralSection {...section} />
      <FailoverSection
        {...section}
        sourceAddresses={sourceAddresses}
        sourceHostname={sourceHostname}
        targetHostname={targetHostname}
      />
      <ConnectionSection
        {...section}
        sourceAddresses={sourceAddresses}
        targetAddresses={targetAddresses}
        sourceHostname={sourceHostname}
        targetHostname={targetHostname}
        postgres={postgres}
      />
      {showReplicationSet && <ReplicationSetSection {...section} errors={errors} />}
      {showDns && (
        <DnsSection
          {...section}
          errors={errors}
          sourceAddresses={sourceAddresses}
          targetAddresses={targetAddresses}
          credentials={credentials}
          servers={servers}
          targetHostname={targetHostname}
          discovery={discovery}
        />
      )}
      <HooksSection hooks={s.hooks} onChange={(hooks) => onChange({ ...s, hooks })} errors={errors} />
      <TestingSection testing={s.testing} method={method} onChange={(testing) => onChange({ ...s, testing })} errors={errors} />
    </div>
  );
}
