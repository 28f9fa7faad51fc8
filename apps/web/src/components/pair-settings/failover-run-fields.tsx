'use client';

// How a failover runs (graceful or immediate, the drain deadline, service deadlines) and, for
// identity failover, which addresses the target takes over.
import { settingsHelp } from '@tandem/engine';
import { Button, Input } from '../ui';
import { CheckboxField, FieldError, HelpText, RadioField, Row, SmallButton } from './form-bits';
import { NumberField } from './number-field';
import { P, type Failover, type SectionProps } from './types';

type Identity = Failover['identity'];

export function FailoverRunFields({
  value: s,
  err,
  setFailover,
  sourceAddresses,
}: Pick<SectionProps, 'value' | 'err'> & { setFailover: (patch: Partial<Failover>) => void; sourceAddresses: string[] }) {
  const f = s.failover;
  return (
    <div className="space-y-5 border-t border-slate-200 pt-4 dark:border-slate-800">
      <h3 className="text-sm font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">How a failover runs</h3>
      <RadioField
        name={`${P}-failover-mode`}
        legend="Failover mode"
        help={settingsHelp.failoverMode}
        value={f.mode}
        options={[
          { value: 'graceful', label: 'Graceful', hint: '(default)' },
          { value: 'immediate', label: 'Immediate' },
        ]}
        onChange={(mode) => setFailover({ mode })}
      />
      <Row>
        <NumberField
          id={`${P}-drain-timeout`}
          label="Drain timeout (seconds)"
          help={settingsHelp.drainTimeout}
          value={f.drainTimeoutSeconds}
          onChange={(drainTimeoutSeconds) => setFailover({ drainTimeoutSeconds })}
          error={err('failover.drainTimeoutSeconds')}
        />
        <NumberField
          id={`${P}-service-timeout`}
          label="Service timeout (seconds)"
          help={settingsHelp.serviceTimeout}
          value={f.serviceTimeoutSeconds}
          onChange={(serviceTimeoutSeconds) => setFailover({ serviceTimeoutSeconds })}
          error={err('failover.serviceTimeoutSeconds')}
        />
      </Row>
      <RadioField
        name={`${P}-on-drain-timeout`}
        legend="When the queue has not drained in time"
        help={settingsHelp.onDrainTimeout}
        value={f.onDrainTimeout}
        options={[
          { value: 'abort', label: 'Abort the failover', hint: '(nothing changes)' },
          { value: 'proceed', label: 'Proceed', hint: '(the lag is lost)' },
        ]}
        onChange={(onDrainTimeout) => setFailover({ onDrainTimeout })}
      />
      {f.type === 'identity' && (
        <IdentityFields
          identity={f.identity}
          sourceAddresses={sourceAddresses}
          onChange={(identity) => setFailover({ identity })}
          err={err}
        />
      )}
    </div>
  );
}

/** The source addresses the target takes over at an identity failover. */
function IdentityFields({
  identity,
  sourceAddresses,
  onChange,
  err,
}: {
  identity: Identity;
  sourceAddresses: string[];
  onChange: (next: Identity) => void;
  err: (path: string) => string | undefined;
}) {
  const rows = identity.addresses;
  const set = (i: number, patch: Partial<Identity['addresses'][number]>) =>
    onChange({ ...identity, addresses: rows.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const whole = err('failover.identity.addresses');
  return (
    <div className="space-y-5">
      <div className="space-y-1.5" role="group" aria-labelledby={`${P}-identity-label`}>
        <p id={`${P}-identity-label`} className="text-sm font-medium">
          Addresses to take over
        </p>
        <datalist id={`${P}-identity-source-list`}>
          {sourceAddresses.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        {rows.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">No addresses yet.</p>}
        {rows.map((r, i) => {
          const e = err(`failover.identity.addresses.${i}`);
          return (
            <div key={i} className="space-y-1">
              <div className="flex flex-wrap items-center gap-2">
                <Input
                  aria-label={`Address ${i + 1}`}
                  list={`${P}-identity-source-list`}
                  className="w-48 min-w-0 font-mono"
                  placeholder="10.0.0.10"
                  value={r.address}
                  onChange={(ev) => set(i, { address: ev.target.value })}
                />
                <span aria-hidden className="text-slate-400">
                  /
                </span>
                <Input
                  aria-label={`Address ${i + 1} prefix length`}
                  type="number"
                  inputMode="numeric"
                  className="w-20"
                  value={Number.isNaN(r.prefix) ? '' : r.prefix}
                  onChange={(ev) => set(i, { prefix: ev.target.value.trim() === '' ? NaN : Number(ev.target.value) })}
                />
                <Input
                  aria-label={`Address ${i + 1} target interface`}
                  className="w-40 min-w-0 font-mono"
                  placeholder="Interface (automatic)"
                  value={r.targetInterface ?? ''}
                  onChange={(ev) => set(i, { targetInterface: ev.target.value.trim() ? ev.target.value : null })}
                />
                <SmallButton
                  label={`Remove address ${i + 1}`}
                  onClick={() => onChange({ ...identity, addresses: rows.filter((_, j) => j !== i) })}
                >
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
          onClick={() =>
            onChange({
              ...identity,
              addresses: [...rows, { address: sourceAddresses.find((a) => !rows.some((r) => r.address === a)) ?? '', prefix: 24, targetInterface: null }],
            })
          }
        >
          Add address
        </Button>
        <HelpText>
          {settingsHelp.identityAddresses} Leave the interface empty to use the target interface whose subnet holds the address.
        </HelpText>
        {rows.length === 0 && <FieldError message={whole} />}
      </div>
      <CheckboxField
        id={`${P}-identity-force`}
        label="Move addresses even without a matching target interface"
        help={settingsHelp.identityForce}
        checked={identity.force}
        onChange={(force) => onChange({ ...identity, force })}
      />
    </div>
  );
}
