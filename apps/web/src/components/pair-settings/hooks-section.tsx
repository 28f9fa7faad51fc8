'use client';

import { hookLabels, settingsHelp, type Hooks } from '@tandem/engine';
import { Field, Textarea } from '../ui';
import { P, type FieldMessages } from './types';

const hookKeys = Object.keys(hookLabels) as (keyof Hooks)[];

export function HooksSection({ hooks, onChange, errors }: { hooks: Hooks; onChange: (h: Hooks) => void; errors: FieldMessages }) {
  const count = hookKeys.filter((k) => hooks[k]).length;
  const hasError = hookKeys.some((k) => errors[`hooks.${k}`]);
  return (
    <section className="mb-4 rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <details open={hasError || undefined} className="group">
        <summary className="cursor-pointer list-none p-4">
          <span className="flex items-center justify-between gap-2">
            <span className="text-lg font-semibold">Hooks</span>
            <span className="text-sm text-slate-500 dark:text-slate-400">
              {count === 0 ? 'optional, none set' : `${count} set`}{' '}
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
