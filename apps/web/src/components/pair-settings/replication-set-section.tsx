'use client';

import { settingsHelp, type PairSettings } from '@tandem/engine';
import { Button, Input, Select } from '../ui';
import { FieldError, ListEditor, Section, SmallButton } from './form-bits';
import { P, type FieldMessages, type SectionProps } from './types';
import { errorAt } from './validation';

/** Which directories of the source are protected, with include/exclude rules. */
export function ReplicationSetSection({ value: s, onChange, err, errors }: SectionProps & { errors: FieldMessages }) {
  return (
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
