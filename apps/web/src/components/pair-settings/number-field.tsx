'use client';

import { Field, Input } from '../ui';

export function NumberField({
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
