'use client';

import { settingsHelp } from '@tandem/engine';
import Link from 'next/link';
import { Button, Field, Input, Select } from '../ui';
import { DnsRecordsPicker, type DnsDiscoveryContext } from './dns-records-picker';
import { CheckboxField, FieldError, HelpText, ListEditor, RadioField, Row, Section, SmallButton } from './form-bits';
import { NumberField } from './number-field';
import { P, type CredentialOption, type Dns, type FieldMessages, type SectionProps } from './types';
import { errorAt } from './validation';

/** DNS failover: the servers, zone, TTL and address map Tandem uses to repoint the source's records. */
export function DnsSection({
  value: s,
  onChange,
  err,
  errors,
  sourceAddresses,
  targetAddresses,
  credentials,
  servers,
  targetHostname,
  discovery,
}: SectionProps & {
  errors: FieldMessages;
  sourceAddresses: string[];
  targetAddresses: string[];
  credentials: CredentialOption[];
  /** The customer's servers, for the DNS executor. */
  servers: { id: string; hostname: string }[];
  targetHostname: string;
  discovery: DnsDiscoveryContext | null;
}) {
  const setDns = (patch: Partial<Dns>) => onChange({ ...s, dns: { ...s.dns, ...patch } });
  // A TSIG key signs dynamic updates; a domain account changes Windows DNS. Others stay listed if chosen.
  const wantedKind = s.dns.provider === 'windows' ? 'domain' : 'dns_tsig';
  const credentialChoices = credentials.filter((c) => c.kind === wantedKind || c.id === s.dns.credentialId);
  return (
    <Section
      title="DNS"
      description={
        s.failover.enabled
          ? 'At failover Tandem repoints the source’s DNS records at the target.'
          : 'Failover is off, so these are kept but not used.'
      }
    >
      <RadioField
        name={`${P}-dns-provider`}
        legend="DNS provider"
        help={settingsHelp.dnsProvider}
        value={s.dns.provider}
        options={[
          // Labels avoid the word "DNS": the failover type's radio is named that.
          { value: 'rfc2136', label: 'RFC 2136 dynamic update' },
          { value: 'windows', label: 'Windows, Active Directory-integrated' },
        ]}
        onChange={(provider) => setDns({ provider })}
      />
      <Field id={`${P}-dns-executor`} label="DNS executor" help={settingsHelp.dnsExecutor} error={err('dns.executorServerId')}>
        <Select
          id={`${P}-dns-executor`}
          value={s.dns.executorServerId ?? ''}
          onChange={(e) => setDns({ executorServerId: e.target.value || null })}
        >
          <option value="">The target’s agent ({targetHostname})</option>
          {servers.map((v) => (
            <option key={v.id} value={v.id}>
              {v.hostname}
            </option>
          ))}
        </Select>
      </Field>
      <ListEditor
        id={`${P}-dns-servers`}
        label="DNS servers"
        help={settingsHelp.dnsServers}
        items={s.dns.servers}
        onChange={(servers) => setDns({ servers })}
        placeholder="e.g. 10.0.0.2 or ns1.corp.example.com"
        addLabel="Add DNS server"
        error={err('dns.servers')}
        emptyText="No DNS servers yet."
        mono
      />
      <Row>
        <Field id={`${P}-dns-zone`} label="DNS zone" help={settingsHelp.zone} error={err('dns.zone')}>
          <Input
            id={`${P}-dns-zone`}
            className="font-mono"
            placeholder="corp.example.com"
            value={s.dns.zone}
            onChange={(e) => setDns({ zone: e.target.value })}
            aria-invalid={!!err('dns.zone')}
            aria-describedby={err('dns.zone') ? `${P}-dns-zone-error` : `${P}-dns-zone-help`}
          />
        </Field>
        <NumberField
          id={`${P}-dns-ttl`}
          label="TTL (seconds)"
          help={settingsHelp.ttl}
          value={s.dns.ttlSeconds}
          onChange={(ttlSeconds) => setDns({ ttlSeconds })}
          error={err('dns.ttlSeconds')}
        />
      </Row>
      <AddressMapEditor
        rows={s.dns.addressMap}
        onChange={(addressMap) => setDns({ addressMap })}
        sourceAddresses={sourceAddresses}
        targetAddresses={targetAddresses}
        errors={errors}
      />
      <Field id={`${P}-dns-credential`} label="Credential" help={settingsHelp.credential} error={err('dns.credentialId')}>
        <Select
          id={`${P}-dns-credential`}
          value={s.dns.credentialId ?? ''}
          onChange={(e) => setDns({ credentialId: e.target.value || null })}
        >
          <option value="">None</option>
          {credentialChoices.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} ({c.kind}, {c.scope === 'customer' ? 'this customer' : 'organization'})
            </option>
          ))}
        </Select>
      </Field>
      <p className="-mt-3 text-xs">
        <Link href="/credentials" className="text-sky-700 underline dark:text-sky-400">
          Manage credentials
        </Link>{' '}
        (TSIG keys are created and tested there; their secrets are never shown again).
      </p>
      <DnsRecordsPicker
        dns={s.dns}
        onChange={(records) => setDns({ records })}
        discovery={discovery}
        error={err('dns.records')}
      />
      <CheckboxField
        id={`${P}-dns-lower-ttl`}
        label="Lower the TTL of these records when protection is enabled"
        help={settingsHelp.lowerTtlOnEnable}
        checked={s.dns.lowerTtlOnEnable}
        onChange={(lowerTtlOnEnable) => setDns({ lowerTtlOnEnable })}
      />
    </Section>
  );
}

function AddressMapEditor({
  rows,
  onChange,
  sourceAddresses,
  targetAddresses,
  errors,
}: {
  rows: Dns['addressMap'];
  onChange: (r: Dns['addressMap']) => void;
  sourceAddresses: string[];
  targetAddresses: string[];
  errors: FieldMessages;
}) {
  const set = (i: number, patch: Partial<Dns['addressMap'][number]>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const whole = errors['dns.addressMap'];
  return (
    <div className="space-y-1.5" role="group" aria-labelledby={`${P}-map-label`}>
      <p id={`${P}-map-label`} className="text-sm font-medium">
        Address map
      </p>
      <datalist id={`${P}-map-source-list`}>
        {sourceAddresses.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <datalist id={`${P}-map-target-list`}>
        {targetAddresses.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      {rows.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">No addresses mapped yet.</p>}
      {rows.map((r, i) => {
        const e = errorAt(errors, `dns.addressMap.${i}`);
        return (
          <div key={i} className="space-y-1">
            <div className="flex items-center gap-2">
              <Input
                aria-label={`Mapping ${i + 1} source address`}
                list={`${P}-map-source-list`}
                className="min-w-0 font-mono"
                value={r.source}
                placeholder="Source address"
                onChange={(ev) => set(i, { source: ev.target.value })}
              />
              <span aria-hidden className="text-slate-400">
                →
              </span>
              <Input
                aria-label={`Mapping ${i + 1} target address`}
                list={`${P}-map-target-list`}
                className="min-w-0 font-mono"
                value={r.target}
                placeholder="Target address"
                onChange={(ev) => set(i, { target: ev.target.value })}
              />
              <SmallButton label={`Remove mapping ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                ✕
              </SmallButton>
            </div>
            <FieldError message={e} />
          </div>
        );
      })}
      <Button
        type="button"
        variant="secondary"
        onClick={() => onChange([...rows, { source: sourceAddresses[0] ?? '', target: targetAddresses[0] ?? '' }])}
      >
        Add mapping
      </Button>
      {!whole && <HelpText>{settingsHelp.addressMap}</HelpText>}
      <FieldError message={whole} />
    </div>
  );
}
