'use client';

// The organization's validation settings: how often pairs are re-validated, and whether Fix All
// includes privileged fixes. Owners and admins change them (audited); other staff read them.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { Button, Card, ErrorBanner, Field, Input } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function ValidationSettingsCard({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const id = useId();
  const settings = useQuery(trpc.validation.settings.queryOptions());
  const [hours, setHours] = useState(24);
  const [privileged, setPrivileged] = useState(false);
  useEffect(() => {
    if (settings.data) {
      setHours(settings.data.validationIntervalHours);
      setPrivileged(settings.data.privilegedFixesInFixAll);
    }
  }, [settings.data]);
  const save = useMutation(
    trpc.validation.updateSettings.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.validation.settings.queryKey() }),
    }),
  );
  const error = settings.error ?? save.error;
  return (
    <Card className="mb-4">
      <form
        aria-label="Validation settings"
        className="space-y-3 text-sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate({ validationIntervalHours: hours, privilegedFixesInFixAll: privileged });
        }}
      >
        <h2 className="text-lg font-semibold">Validation settings</h2>
        <Field
          id={`${id}-hours`}
          label="Re-validate every pair every (hours)"
          help="Pairs are also re-validated when an agent reconnects and after every fix."
        >
          <Input
            id={`${id}-hours`}
            type="number"
            min={1}
            max={720}
            value={hours}
            disabled={!canEdit}
            onChange={(e) => setHours(Number(e.target.value))}
          />
        </Field>
        <label className="flex items-start gap-2">
          <input
            type="checkbox"
            className="mt-0.5 h-4 w-4 accent-sky-700"
            checked={privileged}
            disabled={!canEdit}
            onChange={(e) => setPrivileged(e.target.checked)}
          />
          <span>
            <span className="font-medium">Include privileged fixes in Fix All</span>
            <span className="block text-xs text-slate-600 dark:text-slate-400">
              Directory grants, firewall openings and database authentication changes; otherwise they are confirmed one by one by
              an owner or admin.
            </span>
          </span>
        </label>
        {canEdit && (
          <Button type="submit" disabled={save.isPending}>
            {save.isSuccess && !save.isPending ? 'Saved' : 'Save'}
          </Button>
        )}
        <ErrorBanner message={error ? describeError(error).message : null} />
      </form>
    </Card>
  );
}
