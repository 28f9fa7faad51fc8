'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type ReactNode } from 'react';
import { applicationLabels, hookLabels, type Application, type PairSettings } from '@tandem/engine';
import { cx } from '@/components/pair-settings/form-bits';
import { PairSettingsForm } from '@/components/pair-settings/settings-form';
import { SettingsProblems } from '@/components/pair-settings/problems';
import { settingsErrorOf, validateSettings, type FieldMessages } from '@/components/pair-settings/validation';
import { Badge, Button, Card, ErrorBanner, PageHeader } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

const steps = ['Source server', 'Application', 'Target server', 'Settings', 'Review'] as const;
type Step = 0 | 1 | 2 | 3 | 4;

interface ServerOption {
  id: string;
  hostname: string;
  osFamily: string;
  agentStatus: string | null;
  ok: boolean;
  reason: string | null;
  addresses: string[];
}

export function WizardView({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [step, setStep] = useState<Step>(0);
  const [sourceId, setSourceId] = useState<string | null>(null);
  const [application, setApplication] = useState<Application | null>(null);
  const [targetId, setTargetId] = useState<string | null>(null);
  const [settings, setSettings] = useState<PairSettings | null>(null);
  const [settingsKey, setSettingsKey] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldMessages>({});
  const [problem, setProblem] = useState<string | null>(null);
  const topRef = useRef<HTMLDivElement>(null);

  const wizard = useQuery({
    ...trpc.pair.wizard.queryOptions({
      customerId,
      ...(sourceId ? { sourceServerId: sourceId } : {}),
      ...(sourceId && application ? { application } : {}),
      ...(sourceId && application && targetId ? { targetServerId: targetId } : {}),
    }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const create = useMutation(
    trpc.pair.create.mutationOptions({
      onSuccess: async (res) => {
        await qc.invalidateQueries({ queryKey: trpc.pair.list.queryKey({ customerId }) });
        router.push(`/customers/${customerId}/pairs/${res.id}`);
      },
      onError: (err) => {
        const e = settingsErrorOf(err);
        const settingsFields = Object.fromEntries(
          Object.entries(e.fields).filter(([k]) => k !== 'targetServerId' && k !== 'application'),
        );
        if (e.fields.targetServerId) {
          setProblem(`${e.message}. Choose another target.`);
          go(2);
        } else if (e.fields.application) {
          setProblem(e.message);
          go(1);
        } else if (Object.keys(settingsFields).length > 0) {
          setErrors(settingsFields);
          setProblem(null);
          go(3);
        } else {
          setProblem(e.message);
        }
      },
    }),
  );

  const d = wizard.data;
  const source = d?.sources.find((s) => s.id === sourceId) ?? null;
  const target = d?.targets?.find((t) => t.id === targetId) ?? null;
  const key = `${sourceId}|${application}|${targetId}`;
  const defaultsReady = !!d?.defaults && !wizard.isPlaceholderData && d.defaults.application === application;

  function go(next: Step) {
    setStep(next);
    topRef.current?.scrollIntoView({ block: 'start' });
  }

  function pickSource(id: string) {
    if (id === sourceId) return;
    setSourceId(id);
    setApplication(null);
    setTargetId(null);
    setProblem(null);
  }
  function pickApplication(a: Application) {
    if (a === application) return;
    setApplication(a);
    setTargetId(null);
    setProblem(null);
  }
  function pickTarget(id: string) {
    setTargetId(id);
    setProblem(null);
  }

  function next() {
    setProblem(null);
    if (step === 2) {
      // Fresh defaults for a new source/application/target; kept edits when only going back and forth.
      if (settingsKey !== key && d?.defaults) {
        setSettings(d.defaults);
        setSettingsKey(key);
        setErrors({});
      }
      go(3);
      return;
    }
    if (step === 3 && settings) {
      const r = validateSettings(settings);
      if (!r.ok) {
        setErrors(r.fields);
        return;
      }
      setErrors({});
      go(4);
      return;
    }
    go((step + 1) as Step);
  }

  function submit() {
    if (!settings || !sourceId || !targetId) return;
    const r = validateSettings(settings);
    if (!r.ok) {
      setErrors(r.fields);
      go(3);
      return;
    }
    create.mutate({ customerId, sourceServerId: sourceId, targetServerId: targetId, settings: r.data });
  }

  const canNext =
    step === 0
      ? !!source?.ok
      : step === 1
        ? !!application && !!d?.applications?.find((a) => a.application === application)?.available
        : step === 2
          ? !!target?.ok && defaultsReady
          : step === 3
            ? !!settings
            : false;

  return (
    <div ref={topRef} className="scroll-mt-4">
      <p className="mb-2 text-sm">
        <Link href={`/customers/${customerId}`} className="text-sky-700 hover:underline dark:text-sky-400">
          ← {d?.customerName ?? 'Customer'}
        </Link>
      </p>
      <PageHeader
        title="New protection"
        description={d ? `Protect one of ${d.customerName}’s servers with a standby copy on another.` : undefined}
      />
      <Progress step={step} onJump={(s) => s < step && go(s)} />

      {wizard.error && <ErrorBanner message={describeError(wizard.error).message} />}
      {!d && !wizard.error && <p className="text-sm text-slate-500">Loading…</p>}

      {d && step === 0 && (
        <StepCard
          title="Which server do you want to protect?"
          help="The source keeps serving; Tandem copies it to the target and watches it. Servers without an agent or facts cannot be chosen yet."
        >
          <ServerChoices
            name="source"
            servers={d.sources}
            selected={sourceId}
            onSelect={pickSource}
            empty="This customer has no servers yet. Add one from the customer page."
          />
        </StepCard>
      )}

      {d && step === 1 && (
        <StepCard
          title={`What runs on ${source?.hostname ?? 'the source'}?`}
          help="Applications the source’s agent discovered. The choice sets how data is replicated and which services start at failover."
        >
          {!d.applications ? (
            <p className="text-sm text-slate-500">Loading…</p>
          ) : (
            <div role="radiogroup" aria-label="Application" className="grid gap-2 sm:grid-cols-2">
              {d.applications.map((a) => (
                <OptionCard
                  key={a.application}
                  name="application"
                  value={a.application}
                  label={a.label}
                  checked={application === a.application}
                  disabled={!a.available}
                  onSelect={() => pickApplication(a.application)}
                  data={{ 'data-application': a.application }}
                  detail={a.detail}
                />
              ))}
            </div>
          )}
        </StepCard>
      )}

      {d && step === 2 && (
        <StepCard
          title="Where should the standby copy live?"
          help={`Servers of ${d.customerName} that can take over ${source?.hostname ?? 'the source'} for ${application ? applicationLabels[application] : 'this application'}. Greyed servers say why they cannot.`}
        >
          {!d.targets ? (
            <p className="text-sm text-slate-500">Loading…</p>
          ) : (
            <ServerChoices
              name="target"
              servers={d.targets}
              selected={targetId}
              onSelect={pickTarget}
              empty="This customer has no other server. Add a second server first."
            />
          )}
        </StepCard>
      )}

      {d && step === 3 && settings && source && target && (
        <>
          <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
            Pre-filled for {applicationLabels[settings.application]} from {source.hostname} to {target.hostname}. Every field
            explains itself; change what you need.
          </p>
          <PairSettingsForm
            value={settings}
            onChange={(s) => setSettings(s)}
            errors={errors}
            sourceAddresses={source.addresses}
            targetAddresses={target.addresses}
            credentials={d.credentials}
            sourceHostname={source.hostname}
            targetHostname={target.hostname}
            postgres={d.postgres}
            servers={d.sources.filter((v) => v.agentStatus === 'online' || v.agentStatus === 'offline')}
            discovery={{ sourceServerId: source.id, targetServerId: target.id }}
          />
          <SettingsProblems errors={errors} />
        </>
      )}

      {d && step === 4 && settings && source && target && (
        <Review settings={settings} source={source} target={target} credentials={d.credentials} />
      )}

      <div className="mt-2 space-y-3">
        <ErrorBanner message={problem} />
        <div className="flex flex-wrap items-center justify-between gap-2">
          <div>
            {step > 0 && (
              <Button type="button" variant="secondary" onClick={() => go((step - 1) as Step)} disabled={create.isPending}>
                Back
              </Button>
            )}
          </div>
          <div className="flex gap-2">
            <Link
              href={`/customers/${customerId}`}
              className="inline-flex items-center rounded-md px-3 py-2 text-sm text-slate-700 hover:bg-slate-200 dark:text-slate-200 dark:hover:bg-slate-800"
            >
              Cancel
            </Link>
            {step < 4 ? (
              <Button type="button" onClick={next} disabled={!canNext}>
                Next
              </Button>
            ) : (
              <Button type="button" onClick={submit} disabled={create.isPending}>
                {create.isPending ? 'Creating…' : 'Create protection'}
              </Button>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}

function Progress({ step, onJump }: { step: Step; onJump: (s: Step) => void }) {
  return (
    <nav aria-label="Wizard progress" className="mb-4">
      <ol className="flex flex-wrap items-center gap-x-1 gap-y-2 text-sm">
        {steps.map((label, i) => {
          const state = i < step ? 'done' : i === step ? 'current' : 'upcoming';
          const dot = (
            <span
              className={cx(
                'inline-flex h-6 w-6 shrink-0 items-center justify-center rounded-full text-xs font-semibold',
                state === 'done' && 'bg-sky-700 text-white dark:bg-sky-600',
                state === 'current' && 'border-2 border-sky-700 text-sky-800 dark:border-sky-400 dark:text-sky-200',
                state === 'upcoming' && 'border border-slate-300 text-slate-500 dark:border-slate-600 dark:text-slate-400',
              )}
              aria-hidden
            >
              {state === 'done' ? '✓' : i + 1}
            </span>
          );
          return (
            <li
              key={label}
              className="flex items-center gap-1"
              aria-current={state === 'current' ? 'step' : undefined}
              data-step-state={state}
            >
              {state === 'done' ? (
                <button
                  type="button"
                  onClick={() => onJump(i as Step)}
                  className="flex items-center gap-1.5 rounded px-1 py-0.5 hover:bg-slate-200 dark:hover:bg-slate-800"
                >
                  {dot}
                  <span className="hidden sm:inline">{label}</span>
                  <span className="sr-only sm:hidden">{label}</span>
                </button>
              ) : (
                <span className="flex items-center gap-1.5 px-1 py-0.5">
                  {dot}
                  <span
                    className={cx(state === 'current' ? 'font-semibold' : 'hidden text-slate-500 sm:inline dark:text-slate-400')}
                  >
                    {label}
                  </span>
                </span>
              )}
              {i < steps.length - 1 && (
                <span aria-hidden className="mx-1 h-px w-4 bg-slate-300 sm:w-6 dark:bg-slate-700">
                  {' '}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      <p className="sr-only" aria-live="polite">
        Step {step + 1} of {steps.length}: {steps[step]}
      </p>
    </nav>
  );
}

function StepCard({ title, help, children }: { title: string; help?: string; children: ReactNode }) {
  return (
    <Card className="mb-4">
      <h2 className="text-lg font-semibold">{title}</h2>
      {help && <p className="mb-4 mt-0.5 text-sm text-slate-600 dark:text-slate-400">{help}</p>}
      {children}
    </Card>
  );
}

const agentTone = { online: 'green', offline: 'amber', pending: 'slate', revoked: 'slate' } as const;

function ServerChoices({
  name,
  servers,
  selected,
  onSelect,
  empty,
}: {
  name: string;
  servers: ServerOption[];
  selected: string | null;
  onSelect: (id: string) => void;
  empty: string;
}) {
  if (servers.length === 0) return <p className="text-sm text-slate-500">{empty}</p>;
  // Choosable servers first, then the greyed ones with their reasons.
  const ordered = [...servers.filter((s) => s.ok), ...servers.filter((s) => !s.ok)];
  return (
    <div
      role="radiogroup"
      aria-label={name === 'source' ? 'Source server' : 'Target server'}
      className="grid gap-2 sm:grid-cols-2"
    >
      {ordered.map((s) => (
        <OptionCard
          key={s.id}
          name={name}
          value={s.id}
          label={s.hostname}
          checked={selected === s.id}
          disabled={!s.ok}
          onSelect={() => onSelect(s.id)}
          data={{ 'data-server': s.hostname, 'data-ok': String(s.ok) }}
          detail={
            <>
              <span className="flex flex-wrap items-center gap-2">
                <span>{s.osFamily === 'windows' ? 'Windows' : 'Linux'}</span>
                {s.addresses.length > 0 && <span className="font-mono text-xs">{s.addresses.join(', ')}</span>}
                {s.agentStatus && (
                  <Badge tone={agentTone[s.agentStatus as keyof typeof agentTone] ?? 'slate'}>agent {s.agentStatus}</Badge>
                )}
              </span>
              {s.reason && (
                <span className="mt-1 block text-amber-800 dark:text-amber-300" data-reason>
                  {s.reason}
                </span>
              )}
            </>
          }
        />
      ))}
    </div>
  );
}

/** One radio option as a card; the whole card is clickable, the radio is named by `label` alone. */
function OptionCard({
  name,
  value,
  label,
  checked,
  disabled,
  onSelect,
  detail,
  data,
}: {
  name: string;
  value: string;
  label: string;
  checked: boolean;
  disabled: boolean;
  onSelect: () => void;
  detail: ReactNode;
  data: Record<string, string>;
}) {
  const id = `${name}-${value}`;
  return (
    <label
      htmlFor={id}
      {...data}
      data-disabled={disabled || undefined}
      className={cx(
        'flex gap-3 rounded-md border p-3 text-sm',
        disabled
          ? 'cursor-not-allowed border-slate-200 bg-slate-50 opacity-60 dark:border-slate-800 dark:bg-slate-950'
          : 'cursor-pointer hover:border-sky-400 dark:hover:border-sky-600',
        checked && !disabled
          ? 'border-sky-600 bg-sky-50 ring-1 ring-sky-600 dark:border-sky-500 dark:bg-sky-950 dark:ring-sky-500'
          : !disabled && 'border-slate-300 dark:border-slate-700',
      )}
    >
      <input
        id={id}
        type="radio"
        name={name}
        value={value}
        aria-label={label}
        aria-describedby={`${id}-detail`}
        checked={checked}
        disabled={disabled}
        onChange={onSelect}
        className="mt-0.5 accent-sky-700"
      />
      <span className="min-w-0">
        <span className="block font-medium">{label}</span>
        <span id={`${id}-detail`} className="mt-0.5 block text-xs text-slate-600 dark:text-slate-400">
          {detail}
        </span>
      </span>
    </label>
  );
}

function Review({
  settings: s,
  source,
  target,
  credentials,
}: {
  settings: PairSettings;
  source: ServerOption;
  target: ServerOption;
  credentials: { id: string; name: string }[];
}) {
  const m = s.failover.monitor;
  const c = s.connection;
  const hooks = (Object.keys(hookLabels) as (keyof typeof hookLabels)[]).filter((k) => s.hooks[k]).map((k) => hookLabels[k]);
  const rows: [string, ReactNode][] = [
    ['Name', s.name],
    ['Source → target', `${source.hostname} → ${target.hostname}`],
    ['Application', applicationLabels[s.application]],
    [
      'Failover',
      s.failover.enabled
        ? `${s.failover.type === 'dns' ? 'DNS' : 'Identity'}; ${s.failover.manualIntervention ? 'waits for approval' : 'automatic (the failover starts by itself)'}`
        : 'Off: replicate and watch only',
    ],
    ['Services to start', [...s.failover.services, ...s.failover.extraServices].join(' → ') || 'none'],
    [
      'Failure monitor',
      `${m.method === 'agent' ? `Agent heartbeat on UDP ${m.port}` : 'ICMP ping'} to ${m.addresses.join(', ')} every ${m.intervalSeconds} s, lost after ${m.missed} missed (${m.intervalSeconds * m.missed} s), ${m.trigger === 'all' ? 'all' : 'any'} address${m.trigger === 'all' ? 'es' : ''}, ${m.observers === 'both' ? 'target and control plane must agree' : 'target only'}`,
    ],
    [
      'Connection',
      `${c.routeMode === 'relay' ? 'through the Tandem gateway relay' : `${c.route}:${c.port}`}, ${c.mirror} mirror, compression ${c.compression}, ${c.bandwidthLimitKbps ? `limit ${c.bandwidthLimitKbps} kbit/s` : 'no bandwidth limit'}, orphans: ${c.orphans}, ${c.inPlaceFromMiB ? `files from ${c.inPlaceFromMiB} MiB updated in place` : 'files replaced whole'}`,
    ],
    ['Target directory', c.targetRoot],
  ];
  if (s.replicationSet)
    rows.push([
      'Directories',
      `${s.replicationSet.roots.join(', ')}${s.replicationSet.rules.length ? ` (${s.replicationSet.rules.length} rule${s.replicationSet.rules.length === 1 ? '' : 's'})` : ''}`,
    ]);
  if (s.failover.type === 'dns') {
    rows.push([
      'DNS',
      `${s.dns.zone || '—'} on ${s.dns.servers.join(', ') || '—'}; ${s.dns.addressMap.map((a) => `${a.source} → ${a.target}`).join(', ') || 'no mapping'}; TTL ${s.dns.ttlSeconds} s${s.dns.lowerTtlOnEnable ? ' (lowered when enabled)' : ''}; credential ${credentials.find((x) => x.id === s.dns.credentialId)?.name ?? 'none'}; ${s.dns.records.length ? `records: ${s.dns.records.map((r) => `${r.name} ${r.type}`).join(', ')}` : 'no records picked'}`,
    ]);
  }
  rows.push([
    'Failover run',
    `${s.failover.mode}${s.failover.mode === 'graceful' ? `, drain up to ${s.failover.drainTimeoutSeconds} s then ${s.failover.onDrainTimeout}` : ''}; services get ${s.failover.serviceTimeoutSeconds} s each`,
  ]);
  if (s.failover.type === 'identity') {
    rows.push([
      'Addresses to take over',
      `${s.failover.identity.addresses.map((a) => `${a.address}/${a.prefix}${a.targetInterface ? ` on ${a.targetInterface}` : ''}`).join(', ') || 'none'}${s.failover.identity.force ? ' (forced)' : ''}`,
    ]);
  }
  rows.push(['Hooks', hooks.length ? hooks.join(', ') : 'none']);
  return (
    <Card className="mb-4">
      <h2 className="text-lg font-semibold">Review</h2>
      <p className="mb-3 mt-0.5 text-sm text-slate-600 dark:text-slate-400">
        Creating the pair saves this configuration; it stays <strong>Unprotected</strong> until you enable protection on its page.
      </p>
      {m.observers === 'target-only' && (
        <p className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
          Target-only detection: a network split between the sites can look like a lost source.
        </p>
      )}
      <dl className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="review">
        {rows.map(([k, v]) => (
          <div key={k} className="grid gap-1 py-2 sm:grid-cols-[12rem_1fr]">
            <dt className="text-slate-500 dark:text-slate-400">{k}</dt>
            <dd className="break-words">{v}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}
