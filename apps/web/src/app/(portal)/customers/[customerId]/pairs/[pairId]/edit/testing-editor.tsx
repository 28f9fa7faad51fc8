'use client';

// The test failover settings on their own, for a pair whose configuration is locked (protected):
// probes only matter to test failovers, so they may change while replication runs.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { fieldErrors, testSettingsSchema, type ReplicationMethod, type TestSettings } from '@tandem/engine';
import { SettingsProblems } from '@/components/pair-settings/problems';
import { TestingSection } from '@/components/pair-settings/testing-section';
import { settingsErrorOf, type FieldMessages } from '@/components/pair-settings/validation';
import { Button, ErrorBanner } from '@/components/ui';
import { useTRPC } from '@/trpc/client';

export function TestingEditor({ pairId, initial, method }: { pairId: string; initial: TestSettings; method: ReplicationMethod }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [testing, setTesting] = useState<TestSettings>(initial);
  const [errors, setErrors] = useState<FieldMessages>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.pair.updateTesting.mutationOptions({
      onSuccess: async () => {
        setSaved(true);
        await qc.invalidateQueries({ queryKey: trpc.pair.pathKey() });
      },
      onError: (err) => {
        const e = settingsErrorOf(err);
        setErrors(e.fields);
        setProblem(Object.keys(e.fields).length ? null : e.message);
      },
    }),
  );
  return (
    <form
      aria-label="Test failover settings"
      onSubmit={(e) => {
        e.preventDefault();
        setErrors({});
        setProblem(null);
        setSaved(false);
        // The shape is checked here for a quick answer (an emptied number box); the server checks
        // again, and also that each probe fits the application.
        const r = testSettingsSchema.safeParse(testing);
        if (!r.success) {
          const fields: FieldMessages = {};
          for (const [k, v] of Object.entries(fieldErrors(r.error)))
            fields[`testing.${k}`] = /expected number/i.test(v) ? 'Enter a number' : v;
          setErrors(fields);
          return;
        }
        update.mutate({ pairId, testing: r.data });
      }}
    >
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        The test failover settings can change while the pair is protected: replication and failover do not use them.
      </p>
      <TestingSection
        testing={testing}
        method={method}
        onChange={(next) => {
          setTesting(next);
          setSaved(false);
        }}
        errors={errors}
      />
      <SettingsProblems errors={errors} />
      <ErrorBanner message={problem} />
      <div className="mt-3 flex items-center justify-end gap-3">
        {saved && (
          <span role="status" className="text-sm text-emerald-700 dark:text-emerald-300">
            Test settings saved.
          </span>
        )}
        <Button type="submit" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save test settings'}
        </Button>
      </div>
    </form>
  );
}
