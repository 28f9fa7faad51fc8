'use client';

import { settingsHelp, type PairSettings } from '@tandem/engine';
import { Field, Input, Select } from '../ui';
import { CheckboxField, Row } from './form-bits';
import { P, type PostgresInstanceOption } from './types';

type Connection = PairSettings['connection'];

const instanceLabel = (i: PostgresInstanceOption) =>
  `PostgreSQL ${i.version ?? '?'} · ${i.dataDirectory}${i.port ? ` · port ${i.port}` : ''}${i.running ? '' : ' (stopped)'}`;

/** Database pairs: which instance on each side, and the source address the standby connects to. */
export function DatabaseFields({
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
