'use client';

// The pair settings form: used by the new-protection wizard and by "Edit configuration".
// Controlled: the caller owns the PairSettings value and the field messages (client-side
// pairSettingsSchema checks plus the API's field errors), keyed by path like "dns.zone".
import { useState } from 'react';
import { DEFAULT_IN_PLACE_MIB, hookLabels, replicationMethodFor, settingsHelp, type Hooks, type PairSettings } from '@tandem/engine';
import { Button, Field, Input, Select, Textarea } from '../ui';
import {
  AddressChooser,
  CheckboxField,
  FieldError,
  HelpText,
  ListEditor,
  RadioField,
  Row,
  Section,
  SmallButton,
} from './form-bits';
import { errorAt, type FieldMessages } from './validation';

export interface PostgresInstanceOption {
  dataDirectory: string;
  port: number | null;
  version: string | null;
  running: boolean;
}

export interface CredentialOption {
  id: string;
  name: string;
  kind: string;
  scope: string;
}

type Failover = PairSettings['failover'];
type Monitor = Failover['monitor'];
type Connection = PairSettings['connection'];
type Dns = PairSettings['dns'];

const P = 'ps'; // id prefix of every input: "ps-dns-zone"

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
}) {
  const s = value;
  const err = (path: string) => errorAt(errors, path);
  const setFailover = (patch: Partial<Failover>) => onChange({ ...s, failover: { ...s.failover, ...patch } });
  const setMonitor = (patch: Partial<Monitor>) => setFailover({ monitor: { ...s.failover.monitor, ...patch } });
  const setConnection = (patch: Partial<Connection>) => onChange({ ...s, connection: { ...s.connection, ...patch } });
  const setDns = (patch: Partial<Dns>) => onChange({ ...s, dns: { ...s.dns, ...patch } });

  const method = replicationMethodFor[s.application];
  /** File pairs through the gateway relay: the target's address and data port are not used. */
  const relayed = method === 'file' && s.connection.routeMode === 'relay';
  const showReplicationSet = !(s.replicationSet === null && method !== 'file');
  const showDns = s.failover.type === 'dns';
  const m = s.failover.monitor;

  return (
    <div data-testid="pair-settings-form">
      <Section title="General">
        <Field id={`${P}-name`} label="Name" help={settingsHelp.name} error={err('name')}>
          <Input
            id={`${P}-name`}
            value={s.name}
            onChange={(e) => onChange({ ...s, name: e.target.value })}
            aria-invalid={!!err('name')}
            aria-describedby={err('name') ? `${P}-name-error` : `${P}-name-help`}
          />
        </Field>
      </Section>

      <Section
        title="Failover"
        description={`What happens when ${sourceHostname} is lost: how the loss is noticed and what ${targetHostname} starts.`}
      >
        <CheckboxField
          id={`${P}-failover-enabled`}
          label="Offer failover for this pair"
          help={settingsHelp.failoverEnabled}
          checked={s.failover.enabled}
          onChange={(enabled) => setFailover({ enabled })}
        />
        <RadioField
          name={`${P}-failover-type`}
          legend="Failover type"
          help={settingsHelp.failoverType}
          value={s.failover.type}
          options={[
            { value: 'dns', label: 'DNS' },
            { value: 'identity', label: 'Identity' },
          ]}
          onChange={(type) => setFailover({ type })}
        />
        <ListEditor
          id={`${P}-services`}
          label="Services to start on the target"
          help={settingsHelp.services}
          items={s.failover.services}
          onChange={(services) => setFailover({ services })}
          ordered
          placeholder="Service name, e.g. smbd"
          addLabel="Add service"
          error={err('failover.services')}
          emptyText="No services: nothing is started on the target at failover."
          mono
        />
        <ListEditor
          id={`${P}-extra-services`}
          label="Extra services"
          help={settingsHelp.extraServices}
          items={s.failover.extraServices}
          onChange={(extraServices) => setFailover({ extraServices })}
          ordered
          placeholder="e.g. clamav-daemon"
          addLabel="Add extra service"
          error={err('failover.extraServices')}
          emptyText="None."
          mono
        />
        {s.failover.clusterResources.length > 0 && (
          <ListEditor
            id={`${P}-cluster-resources`}
            label="Cluster resources"
            help={settingsHelp.clusterResources}
            items={s.failover.clusterResources}
            onChange={(clusterResources) => setFailover({ clusterResources })}
            ordered
            addLabel="Add resource"
            error={err('failover.clusterResources')}
            mono
          />
        )}
        <CheckboxField
          id={`${P}-manual`}
          label="Manual intervention required"
          help={settingsHelp.manualIntervention}
          checked={s.failover.manualIntervention}
          onChange={(manualIntervention) => setFailover({ manualIntervention })}
        />

        <div className="border-t border-slate-200 pt-4 dark:border-slate-800">
          <h3 className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
            Failure monitor
          </h3>
          <div className="space-y-5">
            <RadioField
              name={`${P}-monitor-method`}
              legend="Monitor method"
              help={settingsHelp.monitorMethod}
              value={m.method}
              options={[
                { value: 'agent', label: 'Agent heartbeat' },
                { value: 'icmp', label: 'ICMP ping' },
              ]}
              onChange={(method) => setMonitor({ method })}
            />
            <AddressChooser
              id={`${P}-monitor-addresses`}
              label="Monitored addresses"
              help={settingsHelp.monitorAddresses}
              known={sourceAddresses}
              value={m.addresses}
              onChange={(addresses) => setMonitor({ addresses })}
              error={err('failover.monitor.addresses')}
            />
            <Row>
              {m.method === 'agent' && (
                <NumberField
                  id={`${P}-monitor-port`}
                  label="Monitor port (UDP)"
                  help={settingsHelp.monitorPort}
                  value={m.port}
                  onChange={(port) => setMonitor({ port })}
                  error={err('failover.monitor.port')}
                />
              )}
              <NumberField
                id={`${P}-monitor-interval`}
                label="Interval (seconds)"
                help={settingsHelp.interval}
                value={m.intervalSeconds}
                onChange={(intervalSeconds) => setMonitor({ intervalSeconds })}
                error={err('failover.monitor.intervalSeconds')}
              />
              <NumberField
                id={`${P}-monitor-missed`}
                label="Missed probes"
                help={settingsHelp.missed}
                value={m.missed}
                onChange={(missed) => setMonitor({ missed })}
                error={err('failover.monitor.missed')}
              />
            </Row>
            {Number.isFinite(m.intervalSeconds) && Number.isFinite(m.missed) && m.intervalSeconds > 0 && m.missed > 0 && (
              <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="detection-time">
                A lost source is noticed after about {m.intervalSeconds * m.missed} seconds.
              </p>
            )}
            <RadioField
              name={`${P}-monitor-trigger`}
              legend="Source counts as lost when"
              help={settingsHelp.trigger}
              value={m.trigger}
              options={[
                { value: 'all', label: 'All addresses are lost' },
                { value: 'any', label: 'Any address is lost' },
              ]}
              onChange={(trigger) => setMonitor({ trigger })}
            />
            <RadioField
              name={`${P}-monitor-observers`}
              legend="Observers"
              help={settingsHelp.observers}
              value={m.observers}
              options={[
                { value: 'both', label: 'Target and control plane', hint: '(recommended)' },
                { value: 'target-only', label: 'Target only' },
              ]}
              onChange={(observers) => setMonitor({ observers })}
            />
            {m.observers === 'target-only' && (
              <div
                role="alert"
                data-testid="target-only-warning"
                className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
              >
                <p className="font-medium">Only the target will decide that the source is lost.</p>
                <p className="mt-1">
                  A broken link between the two sites then looks exactly like a failed source. Keep “Manual intervention required”
                  on so a person checks before anything moves.
                </p>
                {!s.failover.manualIntervention && s.failover.enabled && (
                  <p className="mt-1 font-medium">
                    Manual intervention is off: a network split alone could mark this pair for automatic failover.
                  </p>
                )}
              </div>
            )}
          </div>
        </div>
      </Section>

      <Section title="Connection" description={`How replication travels from ${sourceHostname} to ${targetHostname}.`}>
        {method === 'file' && (
          <RadioField
            name={`${P}-route-mode`}
            legend="Data route"
            help={settingsHelp.routeMode}
            value={s.connection.routeMode}
            options={[
              { value: 'direct', label: 'Direct', hint: `${sourceHostname} connects to ${targetHostname}` },
              { value: 'relay', label: 'Relay through Tandem', hint: 'for sites that cannot reach each other' },
            ]}
            onChange={(routeMode) => setConnection({ routeMode })}
            error={err('connection.routeMode')}
          />
        )}
        {relayed ? (
          <div>
            <p data-testid="relay-note" className="text-sm text-slate-600 dark:text-slate-300">
              Both agents connect out to the Tandem gateway, which joins their connections; no address or port of {targetHostname}{' '}
              needs to be reachable from {sourceHostname}. The data stays encrypted with the pair’s own key all the way.
            </p>
            {/* The route address is kept for the direct route; a bad one is still reported here. */}
            <FieldError
              message={err('connection.route') && `Route address (switch to Direct to change it): ${err('connection.route')}`}
            />
          </div>
        ) : (
          <RouteField
            value={s.connection.route}
            known={targetAddresses}
            onChange={(route) => setConnection({ route })}
            error={err('connection.route')}
          />
        )}
        {method === 'postgresql_streaming' && (
          <DatabaseFields
            value={s.connection.database}
            onChange={(database) => setConnection({ database })}
            instances={postgres ?? { source: [], target: [] }}
            sourceAddresses={sourceAddresses}
            err={err}
          />
        )}
        {method === 'file' && (
          <>
            <Row>
              {!relayed && (
                <NumberField
                  id={`${P}-data-port`}
                  label="Data port (TCP)"
                  help={settingsHelp.dataPort}
                  value={s.connection.port}
                  onChange={(port) => setConnection({ port })}
                  error={err('connection.port')}
                />
              )}
              <Field
                id={`${P}-bandwidth`}
                label="Bandwidth limit (kbit/s)"
                help={settingsHelp.bandwidthLimit}
                error={err('connection.bandwidthLimitKbps')}
              >
                <Input
                  id={`${P}-bandwidth`}
                  inputMode="numeric"
                  placeholder="No limit"
                  value={
                    s.connection.bandwidthLimitKbps === null
                      ? ''
                      : Number.isNaN(s.connection.bandwidthLimitKbps)
                        ? ''
                        : String(s.connection.bandwidthLimitKbps)
                  }
                  onChange={(e) =>
                    setConnection({ bandwidthLimitKbps: e.target.value.trim() === '' ? null : Number(e.target.value) })
                  }
                  aria-invalid={!!err('connection.bandwidthLimitKbps')}
                />
              </Field>
            </Row>
            <Row>
              <Field id={`${P}-mirror`} label="Mirror type" help={settingsHelp.mirror}>
                <Select
                  id={`${P}-mirror`}
                  value={s.connection.mirror}
                  onChange={(e) => setConnection({ mirror: e.target.value as Connection['mirror'] })}
                >
                  <option value="checksum">Checksum (send differing blocks)</option>
                  <option value="full">Full (send everything)</option>
                  <option value="differences">Differences (skip unchanged files)</option>
                </Select>
              </Field>
              <Field id={`${P}-compression`} label="Compression" help={settingsHelp.compression}>
                <Select
                  id={`${P}-compression`}
                  value={s.connection.compression}
                  onChange={(e) => setConnection({ compression: e.target.value as Connection['compression'] })}
                >
                  <option value="off">Off</option>
                  <option value="fast">Fast</option>
                  <option value="best">Best</option>
                </Select>
              </Field>
            </Row>
            <Row>
              <Field id={`${P}-orphans`} label="Orphaned files on the target" help={settingsHelp.orphans}>
                <Select
                  id={`${P}-orphans`}
                  value={s.connection.orphans}
                  onChange={(e) => setConnection({ orphans: e.target.value as Connection['orphans'] })}
                >
                  <option value="delete">Delete them</option>
                  <option value="keep">Keep them</option>
                  <option value="move-aside">Move them aside</option>
                </Select>
              </Field>
              <Field
                id={`${P}-target-root`}
                label="Target directory"
                help={settingsHelp.targetRoot}
                error={err('connection.targetRoot')}
              >
                <Input
                  id={`${P}-target-root`}
                  className="font-mono"
                  value={s.connection.targetRoot}
                  onChange={(e) => setConnection({ targetRoot: e.target.value })}
                  aria-invalid={!!err('connection.targetRoot')}
                />
              </Field>
            </Row>
            <Row>
              <Field id={`${P}-updates`} label="Changed files on the target" help={settingsHelp.inPlace}>
                <Select
                  id={`${P}-updates`}
                  value={s.connection.inPlaceFromMiB === null ? 'whole' : 'in-place'}
                  onChange={(e) => setConnection({ inPlaceFromMiB: e.target.value === 'whole' ? null : DEFAULT_IN_PLACE_MIB })}
                >
                  <option value="whole">Replace whole (readers never see a partial update)</option>
                  <option value="in-place">Update big files in place</option>
                </Select>
              </Field>
              {s.connection.inPlaceFromMiB !== null && (
                <Field id={`${P}-in-place-from`} label="In place from (MiB)" error={err('connection.inPlaceFromMiB')}>
                  <Input
                    id={`${P}-in-place-from`}
                    inputMode="numeric"
                    value={Number.isNaN(s.connection.inPlaceFromMiB) ? '' : String(s.connection.inPlaceFromMiB)}
                    onChange={(e) => setConnection({ inPlaceFromMiB: e.target.value.trim() === '' ? Number.NaN : Number(e.target.value) })}
                    aria-invalid={!!err('connection.inPlaceFromMiB')}
                  />
                </Field>
              )}
            </Row>
          </>
        )}
      </Section>

      {showReplicationSet && (
        <Section title="Replication set" description={settingsHelp.replicationSet}>
          <ListEditor
            id={`${P}-roots`}
            label="Directories to protect"
            items={s.replicationSet?.roots ?? []}
            onChange={(roots) => onChange({ ...s, replicationSet: { roots, rules: s.replicationSet?.rules ?? [] } })}
            placeholder={'/srv/data or D:\\Data'}
            addLabel="Add directory"
            error={err('replicationSet.roots')}
            emptyText="No directories yet."
            mono
          />
          <RulesEditor
            rules={s.replicationSet?.rules ?? []}
            onChange={(rules) => onChange({ ...s, replicationSet: { roots: s.replicationSet?.roots ?? [], rules } })}
            errors={errors}
          />
        </Section>
      )}

      {showDns && (
        <Section
          title="DNS"
          description={
            s.failover.enabled
              ? 'At failover Tandem repoints the source’s DNS records at the target.'
              : 'Failover is off, so these are kept but not used.'
          }
        >
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
              {credentials.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.kind}, {c.scope === 'customer' ? 'this customer' : 'organization'})
                </option>
              ))}
            </Select>
          </Field>
        </Section>
      )}

      <HooksSection hooks={s.hooks} onChange={(hooks) => onChange({ ...s, hooks })} errors={errors} />
    </div>
  );
}

function NumberField({
  id,
  label,
  help,
  value,
  onChange,
  error,
}: {
  id: string;
  label: string;
  help?: string;
  value: number;
  onChange: (v: number) => void;
  error?: string;
}) {
  return (
    <Field id={id} label={label} help={help} error={error}>
      <Input
        id={id}
        type="number"
        inputMode="numeric"
        value={Number.isNaN(value) ? '' : value}
        onChange={(e) => onChange(e.target.value.trim() === '' ? NaN : Number(e.target.value))}
        aria-invalid={!!error}
        aria-describedby={error ? `${id}-error` : help ? `${id}-help` : undefined}
      />
    </Field>
  );
}

/** The replication route: one of the target's addresses, or any other typed in. */
function RouteField({
  value,
  known,
  onChange,
  error,
}: {
  value: string;
  known: string[];
  onChange: (v: string) => void;
  error?: string;
}) {
  const [other, setOther] = useState(!known.includes(value));
  const id = `${P}-route`;
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <Field
        id={id}
        label="Replication route (target address)"
        help={other ? undefined : settingsHelp.route}
        error={other ? undefined : error}
      >
        <Select
          id={id}
          value={other ? '__other' : value}
          onChange={(e) => {
            if (e.target.value === '__other') {
              setOther(true);
            } else {
              setOther(false);
              onChange(e.target.value);
            }
          }}
        >
          {known.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
          <option value="__other">Another address…</option>
        </Select>
      </Field>
      {other && (
        <Field id={`${id}-other`} label="Route address" help={settingsHelp.route} error={error}>
          <Input
            id={`${id}-other`}
            className="font-mono"
            value={value}
            onChange={(e) => onChange(e.target.value)}
            aria-invalid={!!error}
            placeholder="IP address or host name"
          />
        </Field>
      )}
    </div>
  );
}

type Rule = NonNullable<PairSettings['replicationSet']>['rules'][number];

function RulesEditor({ rules, onChange, errors }: { rules: Rule[]; onChange: (r: Rule[]) => void; errors: FieldMessages }) {
  const set = (i: number, patch: Partial<Rule>) => onChange(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="space-y-1.5" role="group" aria-labelledby={`${P}-rules-label`}>
      <p id={`${P}-rules-label`} className="text-sm font-medium">
        Rules
      </p>
      {rules.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">No rules: everything under the directories is protected.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400">
              <tr>
                <th className="px-1 py-1 font-medium">Pattern</th>
                <th className="px-1 py-1 font-medium">Action</th>
                <th className="px-1 py-1 font-medium">Subfolders</th>
                <th className="px-1 py-1">
                  <span className="sr-only">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r, i) => {
                const e = errorAt(errors, `replicationSet.rules.${i}`);
                return (
                  <tr key={i} className="align-top">
                    <td className="px-1 py-1">
                      <Input
                        aria-label={`Rule ${i + 1} pattern`}
                        className="min-w-40 font-mono"
                        value={r.pattern}
                        placeholder="e.g. *.tmp or cache"
                        onChange={(ev) => set(i, { pattern: ev.target.value })}
                        aria-invalid={!!e}
                      />
                      <FieldError message={e} />
                    </td>
                    <td className="px-1 py-1">
                      <Select
                        aria-label={`Rule ${i + 1} action`}
                        className="min-w-28"
                        value={r.include ? 'include' : 'exclude'}
                        onChange={(ev) => set(i, { include: ev.target.value === 'include' })}
                      >
                        <option value="exclude">Exclude</option>
                        <option value="include">Include</option>
                      </Select>
                    </td>
                    <td className="px-1 py-2">
                      <label className="flex items-center gap-2 whitespace-nowrap">
                        <input
                          type="checkbox"
                          className="h-4 w-4 accent-sky-700"
                          checked={r.recursive}
                          onChange={(ev) => set(i, { recursive: ev.target.checked })}
                          aria-label={`Rule ${i + 1} recursive`}
                        />
                        Recursive
                      </label>
                    </td>
                    <td className="px-1 py-1.5">
                      <SmallButton label={`Remove rule ${i + 1}`} onClick={() => onChange(rules.filter((_, j) => j !== i))}>
                        ✕
                      </SmallButton>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Button
        type="button"
        variant="secondary"
        onClick={() => onChange([...rules, { pattern: '', include: false, recursive: true }])}
      >
        Add rule
      </Button>
      <FieldError message={errors['replicationSet.rules']} />
    </div>
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

const hookKeys = Object.keys(hookLabels) as (keyof Hooks)[];

function HooksSection({ hooks, onChange, errors }: { hooks: Hooks; onChange: (h: Hooks) => void; errors: FieldMessages }) {
  const count = hookKeys.filter((k) => hooks[k]).length;
  const hasError = hookKeys.some((k) => errors[`hooks.${k}`]);
  return (
    <section className="mb-4 rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <details open={hasError || undefined} className="group">
        <summary className="cursor-pointer list-none p-4">
          <span className="flex items-center justify-between gap-2">
            <span className="text-lg font-semibold">Hooks</span>
            <span className="text-sm text-slate-500 dark:text-slate-400">
              {count === 0 ? 'optional, none set' : `${count} set, not run yet`}{' '}
              <span className="inline-block transition-transform group-open:rotate-90">›</span>
            </span>
          </span>
          <span className="mt-0.5 block text-sm text-slate-600 dark:text-slate-400">{settingsHelp.hooks}</span>
        </summary>
        <div className="space-y-4 px-4 pb-4">
          {hookKeys.map((k) => {
            const id = `${P}-hook-${k}`;
            return (
              <Field key={k} id={id} label={hookLabels[k]} error={errors[`hooks.${k}`]}>
                <Textarea
                  id={id}
                  rows={3}
                  className="font-mono text-xs"
                  placeholder="#!/bin/sh"
                  value={hooks[k] ?? ''}
                  onChange={(e) => onChange({ ...hooks, [k]: e.target.value === '' ? null : e.target.value })}
                />
              </Field>
            );
          })}
        </div>
      </details>
    </section>
  );
}

const instanceLabel = (i: PostgresInstanceOption) =>
  `PostgreSQL ${i.version ?? '?'} · ${i.dataDirectory}${i.port ? ` · port ${i.port}` : ''}${i.running ? '' : ' (stopped)'}`;

/** Database pairs: which instance on each side, and the source address the standby connects to. */
function DatabaseFields({
  value,
  onChange,
  instances,
  sourceAddresses,
  err,
}: {
  value: Connection['database'];
  onChange: (v: Connection['database']) => void;
  instances: { source: PostgresInstanceOption[]; target: PostgresInstanceOption[] };
  sourceAddresses: string[];
  err: (path: string) => string | undefined;
}) {
  const v = value ?? {
    sourceDataDir: instances.source[0]?.dataDirectory ?? '',
    sourcePort: instances.source[0]?.port ?? 5432,
    targetDataDir: instances.target[0]?.dataDirectory ?? '',
    targetPort: instances.target[0]?.port ?? 5432,
    sourceAddress: sourceAddresses[0] ?? '',
    allowSourceRestart: false,
  };
  const set = (patch: Partial<NonNullable<Connection['database']>>) => onChange({ ...v, ...patch });
  const pick = (list: PostgresInstanceOption[], dir: string) => list.find((i) => i.dataDirectory === dir);
  return (
    <div className="space-y-4" data-testid="database-fields">
      <Row>
        <Field
          id={`${P}-pg-source`}
          label="Source instance"
          help={settingsHelp.sourceInstance}
          error={err('connection.database.sourceDataDir') ?? err('connection.database')}
        >
          <Select
            id={`${P}-pg-source`}
            value={v.sourceDataDir}
            onChange={(e) =>
              set({ sourceDataDir: e.target.value, sourcePort: pick(instances.source, e.target.value)?.port ?? v.sourcePort })
            }
          >
            {instances.source.map((i) => (
              <option key={i.dataDirectory} value={i.dataDirectory}>
                {instanceLabel(i)}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          id={`${P}-pg-target`}
          label="Target instance"
          help={settingsHelp.targetInstance}
          error={err('connection.database.targetDataDir')}
        >
          <Select
            id={`${P}-pg-target`}
            value={v.targetDataDir}
            onChange={(e) =>
              set({ targetDataDir: e.target.value, targetPort: pick(instances.target, e.target.value)?.port ?? v.targetPort })
            }
          >
            {instances.target.map((i) => (
              <option key={i.dataDirectory} value={i.dataDirectory}>
                {instanceLabel(i)}
              </option>
            ))}
          </Select>
        </Field>
      </Row>
      <Field
        id={`${P}-pg-source-address`}
        label="Source address for the standby"
        help={settingsHelp.sourceAddress}
        error={err('connection.database.sourceAddress')}
      >
        <Input
          id={`${P}-pg-source-address`}
          className="font-mono"
          list={`${P}-pg-source-addresses`}
          value={v.sourceAddress}
          onChange={(e) => set({ sourceAddress: e.target.value })}
          aria-invalid={!!err('connection.database.sourceAddress')}
        />
        <datalist id={`${P}-pg-source-addresses`}>
          {sourceAddresses.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </Field>
      <CheckboxField
        id={`${P}-pg-restart`}
        label="Tandem may restart PostgreSQL on the source"
        help={settingsHelp.allowSourceRestart}
        checked={v.allowSourceRestart}
        onChange={(allowSourceRestart) => set({ allowSourceRestart })}
      />
    </div>
  );
}
