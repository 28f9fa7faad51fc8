'use client';

import { settingsHelp } from '@tandem/engine';
import { FailoverRunFields } from './failover-run-fields';
import { AddressChooser, CheckboxField, ListEditor, RadioField, Row, Section } from './form-bits';
import { NumberField } from './number-field';
import { P, type Failover, type Monitor, type SectionProps } from './types';

/** What happens when the source is lost: how the loss is noticed and what the target starts. */
export function FailoverSection({
  value: s,
  onChange,
  err,
  sourceAddresses,
  sourceHostname,
  targetHostname,
}: SectionProps & { sourceAddresses: string[]; sourceHostname: string; targetHostname: string }) {
  const setFailover = (patch: Partial<Failover>) => onChange({ ...s, failover: { ...s.failover, ...patch } });
  const setMonitor = (patch: Partial<Monitor>) => setFailover({ monitor: { ...s.failover.monitor, ...patch } });
  return (
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

      <FailoverRunFields value={s} err={err} setFailover={setFailover} sourceAddresses={sourceAddresses} />
      <FailureMonitorFields value={s} err={err} sourceAddresses={sourceAddresses} setMonitor={setMonitor} />
    </Section>
  );
}

/** The failure monitor: how the target checks the source, and when the source counts as lost. */
function FailureMonitorFields({
  value: s,
  err,
  sourceAddresses,
  setMonitor,
}: Pick<SectionProps, 'value' | 'err'> & { sourceAddresses: string[]; setMonitor: (patch: Partial<Monitor>) => void }) {
  const m = s.failover.monitor;
  return (
    <div className="border-t border-slate-200 pt-4 dark:border-slate-800">
      <h3 className="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">Failure monitor</h3>
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
              A broken link between the two sites then looks exactly like a failed source. Keep “Manual intervention required” on
              so a person checks before anything moves.
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
  );
}
