'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  inFlightStatuses,
  isConfigurable,
  pairStatusInfo,
  replicationMethodFor,
  type Application,
  type PairSettings,
  type PairStatus,
} from '@tandem/engine';
import type { ComponentProps } from 'react';
import { PairSettingsForm } from '@/components/pair-settings/settings-form';
import { SettingsProblems } from '@/components/pair-settings/problems';
import { settingsErrorOf, validateSettings, type FieldMessages } from '@/components/pair-settings/validation';
import { PairStatusBadge } from '@/components/status-badge';
import { Button, Card, ErrorBanner, PageHeader } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { TestingEditor } from './testing-editor';

export function EditView({ customerId, pairId }: { customerId: string; pairId: string }) {
  const trpc = useTRPC();
  const pair = useQuery({ ...trpc.pair.get.queryOptions({ pairId }), refetchInterval: 5_000 });
  const stored = useQuery({ ...trpc.pair.settings.queryOptions({ pairId }), staleTime: Infinity, refetchOnWindowFocus: false });
  // The wizard's view of the same servers gives the address choices, the credentials, and
  // defaults for a pair whose stored configuration is incomplete.
  const choices = useQuery({
    ...trpc.pair.wizard.queryOptions({
      customerId,
      sourceServerId: stored.data?.sourceServerId,
      targetServerId: stored.data?.targetServerId,
      application: pair.data?.application as Application | undefined,
    }),
    enabled: !!stored.data && !!pair.data,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });

  const back = `/customers/${customerId}/pairs/${pairId}`;
  const error = pair.error ?? stored.error ?? choices.error;
  if (error) return <ErrorBanner message={describeError(error).message} />;
  if (!pair.data || !stored.data || !choices.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const p = pair.data;
  const source = choices.data.sources.find((s) => s.id === stored.data.sourceServerId);
  const target = choices.data.targets?.find((t) => t.id === stored.data.targetServerId);
  const initial = stored.data.settings ?? choices.data.defaults;

  return (
    <>
      <p className="mb-2 text-sm">
        <Link href={back} className="text-sky-700 hover:underline dark:text-sky-400">
          ← {p.name}
        </Link>
      </p>
      <PageHeader
        title="Edit configuration"
        description={`${p.name}: ${p.source.hostname} → ${p.target.hostname}`}
        actions={<PairStatusBadge status={p.status} />}
      />
      {!isConfigurable(p.status as PairStatus) ? (
        <>
          <Card className="mb-4">
            <p className="text-sm" data-testid="config-locked">
              The pair is {pairStatusInfo[p.status as PairStatus]?.label.toLowerCase() ?? p.status}: its configuration is locked
              while replication runs, so the agents never work from a half-changed configuration. Disable protection on the{' '}
              <Link href={back} className="text-sky-700 underline dark:text-sky-400">
                pair page
              </Link>{' '}
              first.
            </p>
          </Card>
          {stored.data.settings && !inFlightStatuses.includes(p.status as PairStatus) && (
            <TestingEditor
              pairId={pairId}
              initial={stored.data.settings.testing}
              method={replicationMethodFor[stored.data.settings.application]}
            />
          )}
        </>
      ) : !initial ? (
        <ErrorBanner message="The stored configuration cannot be read and no defaults are available for these servers." />
      ) : (
        <EditForm
          pairId={pairId}
          back={back}
          initial={initial}
          incomplete={stored.data.settings === null}
          sourceHostname={p.source.hostname}
          targetHostname={p.target.hostname}
          sourceAddresses={source?.addresses ?? []}
          targetAddresses={target?.addresses ?? []}
          credentials={choices.data.credentials}
          postgres={choices.data.postgres}
          servers={choices.data.sources.filter((v) => v.agentStatus === 'online' || v.agentStatus === 'offline')}
          discovery={{ sourceServerId: stored.data.sourceServerId, targetServerId: stored.data.targetServerId }}
        />
      )}
    </>
  );
}

function EditForm({
  pairId,
  back,
  initial,
  incomplete,
  sourceHostname,
  targetHostname,
  sourceAddresses,
  targetAddresses,
  credentials,
  postgres,
  servers,
  discovery,
}: {
  pairId: string;
  back: string;
  initial: PairSettings;
  incomplete: boolean;
  sourceHostname: string;
  targetHostname: string;
  sourceAddresses: string[];
  targetAddresses: string[];
  credentials: { id: string; name: string; kind: string; scope: string }[];
  postgres: ComponentProps<typeof PairSettingsForm>['postgres'];
  servers: ComponentProps<typeof PairSettingsForm>['servers'];
  discovery: ComponentProps<typeof PairSettingsForm>['discovery'];
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [settings, setSettings] = useState<PairSettings>(initial);
  const [errors, setErrors] = useState<FieldMessages>({});
  const [problem, setProblem] = useState<string | null>(null);
  const update = useMutation(
    trpc.pair.update.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.pair.pathKey() });
        router.push(back);
      },
      onError: (err) => {
        const e = settingsErrorOf(err);
        if (Object.keys(e.fields).length) {
          setErrors(e.fields);
          setProblem(null);
        } else {
          setProblem(e.message);
        }
      },
    }),
  );
  const save = () => {
    setProblem(null);
    const r = validateSettings(settings);
    if (!r.ok) {
      setErrors(r.fields);
      return;
    }
    setErrors({});
    update.mutate({ pairId, settings: r.data });
  };
  return (
    <form
      aria-label="Pair configuration"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      {incomplete && (
        <p className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
          The stored configuration is incomplete; the form starts from the defaults for these servers.
        </p>
      )}
      <PairSettingsForm
        value={settings}
        onChange={setSettings}
        errors={errors}
        sourceAddresses={sourceAddresses}
        targetAddresses={targetAddresses}
        credentials={credentials}
        sourceHostname={sourceHostname}
        targetHostname={targetHostname}
        postgres={postgres}
        servers={servers}
        discovery={discovery}
      />
      <SettingsProblems errors={errors} />
      <ErrorBanner message={problem} />
      <div className="mt-3 flex justify-end gap-2">
        <Link
          href={back}
          className="inline-flex items-center rounded-md px-3 py-2 text-sm text-slate-700 hover:bg-slate-200 dark:text-slate-200 dark:hover:bg-slate-800"
        >
          Cancel
        </Link>
        <Button type="submit" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save configuration'}
        </Button>
      </div>
    </form>
  );
}
