'use client';

import { settingsHelp } from '@tandem/engine';
import { Field, Input } from '../ui';
import { Section } from './form-bits';
import { P, type SectionProps } from './types';

export function GeneralSection({ value: s, onChange, err }: SectionProps) {
  return (
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
  );
}
