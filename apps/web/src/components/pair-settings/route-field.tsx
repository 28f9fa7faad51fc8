'use client';

import { useState } from 'react';
import { settingsHelp } from '@tandem/engine';
import { Field, Input, Select } from '../ui';
import { P } from './types';

/** The replication route: one of the target's addresses, or any other typed in. */
export function RouteField({
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
