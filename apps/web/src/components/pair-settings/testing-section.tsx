'use client';

// The "Test failover" section: which probes a test failover runs against its copy, and (file
// pairs) how the copy is made. Only the probe kinds that fit the pair's replication method are
// offered; an empty list means the application's defaults, which are shown as such. Also used
// on its own (with its own Save) while the rest of the configuration is locked.
import { useState } from 'react';
import {
  defaultProbes,
  probeKindsFor,
  probeLabels,
  type Probe,
  type ProbeKind,
  type ReplicationMethod,
  type TestSettings,
} from '@tandem/engine';
import { Button, Field, Input, Select, Textarea } from '../ui';
import { HelpText, ListEditor, RadioField, Section, SmallButton } from './form-bits';
import { NumberField } from './number-field';
import { P, type FieldMessages } from './types';
import { errorAt } from './validation';

const probeHelp: Record<ProbeKind, string> = {
  'files-match':
    'Hashes (SHA-256) a random sample of files in the copy and compares them with the same files on the source; files changed since the copy was made are skipped.',
  'paths-exist': 'Each path (as it is on the source) must exist in the copy.',
  'sql-rows': 'Runs the query on the temporary database copy; it passes when the query returns at least one row.',
  'row-count':
    'Counts the table’s rows in the copy; it passes when the count lies between the standby’s count when the copy was made and its count now.',
  tcp: 'Connects to a TCP port. Leave the host empty for the target itself and the port empty for the database copy’s port.',
  hook: 'Runs a script on the target; it passes when the script exits 0. Its first argument is the copy’s path (files) or port (database).',
};

/** A new probe of a kind, with values that pass the rules where the kind allows. */
function newProbe(kind: ProbeKind): Probe {
  switch (kind) {
    case 'files-match':
      return { kind, sample: 20 };
    case 'paths-exist':
      return { kind, paths: [] };
    case 'sql-rows':
      return { kind, database: 'postgres', query: 'SELECT 1' };
    case 'row-count':
      return { kind, database: 'postgres', table: '' };
    case 'tcp':
      return { kind, host: null, port: null };
    case 'hook':
      return { kind, script: '#!/bin/sh\n', timeoutSeconds: 60 };
  }
}

export function TestingSection({
  testing,
  method,
  onChange,
  errors,
}: {
  testing: TestSettings;
  method: ReplicationMethod;
  onChange: (next: TestSettings) => void;
  errors: FieldMessages;
}) {
  const kinds = probeKindsFor[method];
  const [adding, setAdding] = useState<ProbeKind>(kinds[0]!);
  const defaults = defaultProbes(method);
  const setProbe = (i: number, p: Probe) => onChange({ ...testing, probes: testing.probes.map((x, j) => (j === i ? p : x)) });
  const listError = errors['testing.probes'];
  return (
    <Section
      title="Test failover"
      id="settings-testing"
      description="A test failover proves the target could take over without touching production: it copies the replica on the target (or makes a temporary copy of the standby database), runs these probes against the copy, and removes it. The source and replication are never changed."
    >
      <div className="space-y-3" data-testid="test-probes">
        <p className="text-sm font-medium">Probes</p>
        {testing.probes.length === 0 ? (
          <div
            className="rounded-md border border-dashed border-slate-300 px-3 py-2 text-sm dark:border-slate-700"
            data-testid="probes-defaults"
          >
            <p className="font-medium">Defaults used</p>
            <ul className="ml-4 list-disc text-slate-600 dark:text-slate-400">
              {defaults.map((p, i) => (
                <li key={i}>{probeLabels[p.kind]}</li>
              ))}
            </ul>
            <HelpText>Add a probe to choose your own; the defaults apply while the list is empty.</HelpText>
          </div>
        ) : (
          <ol className="space-y-3" aria-label="Probes">
            {testing.probes.map((p, i) => (
              <li key={i} className="rounded-md border border-slate-200 p-3 dark:border-slate-700" data-probe={p.kind}>
                <div className="mb-2 flex items-center justify-between gap-2">
                  <span className="text-sm font-medium">
                    {i + 1}. {probeLabels[p.kind]}
                  </span>
                  <SmallButton
                    label={`Remove probe ${i + 1} (${probeLabels[p.kind]})`}
                    onClick={() => onChange({ ...testing, probes: testing.probes.filter((_, j) => j !== i) })}
                  >
                    ✕
                  </SmallButton>
                </div>
                {!kinds.includes(p.kind) && (
                  <p role="alert" className="mb-2 text-xs text-red-700 dark:text-red-400">
                    This probe does not apply to this pair’s application: remove it.
                  </p>
                )}
                <ProbeFields probe={p} index={i} onChange={(next) => setProbe(i, next)} errors={errors} />
                <HelpText>{probeHelp[p.kind]}</HelpText>
              </li>
            ))}
          </ol>
        )}
        <div className="flex flex-wrap items-end gap-2">
          <div className="space-y-1">
            <label htmlFor={`${P}-probe-kind`} className="block text-sm font-medium">
              Probe to add
            </label>
            <Select id={`${P}-probe-kind`} value={adding} onChange={(e) => setAdding(e.target.value as ProbeKind)}>
              {kinds.map((k) => (
                <option key={k} value={k}>
                  {probeLabels[k]}
                </option>
              ))}
            </Select>
          </div>
          <Button
            type="button"
            variant="secondary"
            onClick={() => onChange({ ...testing, probes: [...testing.probes, newProbe(adding)] })}
            disabled={testing.probes.length >= 32}
          >
            Add probe
          </Button>
        </div>
        {listError && (
          <p role="alert" className="text-xs text-red-700 dark:text-red-400">
            {listError}
          </p>
        )}
      </div>
      {method === 'file' && (
        <RadioField
          name={`${P}-copy-method`}
          legend="How the test copy is made"
          help="Copy-on-write (reflink) copies take seconds and almost no space where the target’s filesystem has them (Btrfs, XFS, ZFS); elsewhere Tandem copies the files. A plain copy always copies every byte."
          value={testing.copyMethod}
          options={[
            { value: 'auto', label: 'Copy-on-write where possible' },
            { value: 'copy', label: 'Always a plain copy' },
          ]}
          onChange={(copyMethod) => onChange({ ...testing, copyMethod })}
          error={errors['testing.copyMethod']}
        />
      )}
    </Section>
  );
}

/** The fields of one probe, by kind. Ids carry the probe's position so labels stay unique. */
function ProbeFields({
  probe: p,
  index: i,
  onChange,
  errors,
}: {
  probe: Probe;
  index: number;
  onChange: (p: Probe) => void;
  errors: FieldMessages;
}) {
  const id = (field: string) => `${P}-probe-${i}-${field}`;
  const err = (field: string) => errorAt(errors, `testing.probes.${i}.${field}`);
  const n = i + 1;
  switch (p.kind) {
    case 'files-match':
      return (
        <NumberField
          id={id('sample')}
          label={`Probe ${n}: files to sample`}
          value={p.sample}
          onChange={(sample) => onChange({ ...p, sample })}
          error={err('sample')}
        />
      );
    case 'paths-exist':
      return (
        <ListEditor
          id={id('paths')}
          label={`Probe ${n}: paths that must exist`}
          items={p.paths}
          onChange={(paths) => onChange({ ...p, paths })}
          placeholder="/srv/data/important.db"
          mono
          error={err('paths')}
          emptyText="No paths yet: add at least one."
        />
      );
    case 'sql-rows':
      return (
        <div className="space-y-3">
          <DatabaseField
            id={id('database')}
            n={n}
            value={p.database}
            error={err('database')}
            onChange={(database) => onChange({ ...p, database })}
          />
          <Field id={id('query')} label={`Probe ${n}: query`} error={err('query')}>
            <Textarea
              id={id('query')}
              rows={3}
              className="font-mono text-xs"
              value={p.query}
              onChange={(e) => onChange({ ...p, query: e.target.value })}
              aria-invalid={!!err('query')}
            />
          </Field>
        </div>
      );
    case 'row-count':
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          <DatabaseField
            id={id('database')}
            n={n}
            value={p.database}
            error={err('database')}
            onChange={(database) => onChange({ ...p, database })}
          />
          <Field id={id('table')} label={`Probe ${n}: table`} error={err('table')}>
            <Input
              id={id('table')}
              value={p.table}
              placeholder="public.orders"
              onChange={(e) => onChange({ ...p, table: e.target.value })}
              aria-invalid={!!err('table')}
            />
          </Field>
        </div>
      );
    case 'tcp':
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field id={id('host')} label={`Probe ${n}: host`} help="Empty: the target" error={err('host')}>
            <Input
              id={id('host')}
              value={p.host ?? ''}
              onChange={(e) => onChange({ ...p, host: e.target.value.trim() === '' ? null : e.target.value })}
              aria-invalid={!!err('host')}
            />
          </Field>
          <Field id={id('port')} label={`Probe ${n}: port`} help="Empty: the database copy’s port" error={err('port')}>
            <Input
              id={id('port')}
              type="number"
              inputMode="numeric"
              value={p.port ?? ''}
              onChange={(e) => onChange({ ...p, port: e.target.value.trim() === '' ? null : Number(e.target.value) })}
              aria-invalid={!!err('port')}
            />
          </Field>
        </div>
      );
    case 'hook':
      return (
        <div className="space-y-3">
          <Field id={id('script')} label={`Probe ${n}: script`} error={err('script')}>
            <Textarea
              id={id('script')}
              rows={4}
              className="font-mono text-xs"
              value={p.script}
              onChange={(e) => onChange({ ...p, script: e.target.value })}
              aria-invalid={!!err('script')}
            />
          </Field>
          <NumberField
            id={id('timeout')}
            label={`Probe ${n}: time limit (seconds)`}
            value={p.timeoutSeconds}
            onChange={(timeoutSeconds) => onChange({ ...p, timeoutSeconds })}
            error={err('timeoutSeconds')}
          />
        </div>
      );
  }
}

/** The database a SQL probe runs in (sql-rows and row-count ask for it the same way). */
function DatabaseField(props: {
  id: string;
  n: number;
  value: string;
  error: string | undefined;
  onChange: (database: string) => void;
}) {
  return (
    <Field id={props.id} label={`Probe ${props.n}: database`} error={props.error}>
      <Input id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} aria-invalid={!!props.error} />
    </Field>
  );
}
