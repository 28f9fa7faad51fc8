'use client';

// Alert rules: which events go to which channel. customerId null: the organization's defaults
// (every customer without a rule of its own for that channel); otherwise one customer's rules,
// with the defaults it falls back to shown below them.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ruleEventLabels, ruleEventTypes, type RuleEventType } from '@tandem/engine';
import { Badge, Button, Card, ErrorBanner, Field, Select, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

type Severity = 'info' | 'warning' | 'error';
type Rule = { id: string; customerId: string | null; channelName: string; events: RuleEventType[]; minSeverity: Severity; enabled: boolean };

export function RulesCard({ customerId, canEdit }: { customerId: string | null; canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.alert.rule.list.queryOptions(customerId ? { customerId } : {}));
  const [adding, setAdding] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.alert.pathKey() });
  const update = useMutation(trpc.alert.rule.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.alert.rule.remove.mutationOptions({ onSuccess: refresh }));
  const failed = update.error ?? remove.error;
  const own = (list.data ?? []).filter((r) => r.customerId === customerId);
  const defaults = customerId ? (list.data ?? []).filter((r) => r.customerId === null) : [];

  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">{customerId ? 'Alert rules' : 'Organization default rules'}</h2>
        {canEdit && !adding && <Button onClick={() => setAdding(true)}>{customerId ? 'Add a rule for this customer' : 'Add a default rule'}</Button>}
      </div>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        {customerId
          ? 'A rule of this customer for a channel replaces the organization’s default rules for that channel.'
          : 'Default rules apply to every customer that has no rule of its own for the same channel.'}
      </p>
      {adding && <RuleForm customerId={customerId} onDone={() => setAdding(false)} />}
      {list.error && <ErrorBanner message={describeError(list.error).message} />}
      {list.data && own.length === 0 && (
        <p className="text-sm text-slate-500 dark:text-slate-400">{customerId ? 'This customer uses the organization’s defaults.' : 'No default rules yet.'}</p>
      )}
      {own.length > 0 && <RuleTable rules={own} canEdit={canEdit} onToggle={(r) => update.mutate({ ruleId: r.id, enabled: !r.enabled })} onRemove={(r) => remove.mutate({ ruleId: r.id })} />}
      {defaults.length > 0 && (
        <>
          <h3 className="mb-2 mt-4 text-sm font-semibold">Organization defaults</h3>
          <RuleTable rules={defaults} canEdit={false} />
        </>
      )}
      <div className="mt-3">
        <ErrorBanner message={failed ? describeError(failed).message : null} />
      </div>
    </Card>
  );
}

function RuleTable({ rules, canEdit, onToggle, onRemove }: { rules: Rule[]; canEdit: boolean; onToggle?: (r: Rule) => void; onRemove?: (r: Rule) => void }) {
  return (
    <div className="overflow-x-auto">
      <table className={t.table} aria-label="Alert rules">
        <thead className={t.head}>
          <tr>
            <th className={t.cell}>Channel</th>
            <th className={t.cell}>Events</th>
            <th className={t.cell}>At least</th>
            <th className={t.cell}>State</th>
            {canEdit && <th className={t.cell}>Actions</th>}
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr key={r.id} className={t.row}>
              <td className={`${t.cell} font-medium`}>{r.channelName}</td>
              <td className={t.cell}>{r.events.map((e) => ruleEventLabels[e]).join(', ')}</td>
              <td className={t.cell}>{r.minSeverity}</td>
              <td className={t.cell}>{r.enabled ? <Badge tone="green">On</Badge> : <Badge tone="slate">Off</Badge>}</td>
              {canEdit && (
                <td className={t.cell}>
                  <div className="flex flex-wrap gap-1">
                    <Button variant="secondary" onClick={() => onToggle?.(r)}>
                      {r.enabled ? 'Turn off' : 'Turn on'}
                    </Button>
                    <Button variant="ghost" aria-label={`Delete the rule for ${r.channelName}`} onClick={() => onRemove?.(r)}>
                      Delete
                    </Button>
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RuleForm({ customerId, onDone }: { customerId: string | null; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const channels = useQuery(trpc.alert.channel.list.queryOptions());
  const [channelId, setChannelId] = useState('');
  const [events, setEvents] = useState<RuleEventType[]>(['agent.offline', 'source.lost', 'failover.failed']);
  const [minSeverity, setMinSeverity] = useState<Severity>('info');
  const create = useMutation(
    trpc.alert.rule.create.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.alert.pathKey() });
        onDone();
      },
    }),
  );
  const err = create.error ? describeError(create.error) : null;
  const chosen = channelId || channels.data?.[0]?.id || '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ customerId, channelId: chosen, events, minSeverity });
  };
  if (channels.data?.length === 0) return <p className="mb-3 text-sm text-slate-500">Create a channel first (Alerts page).</p>;
  return (
    <form onSubmit={submit} className="mb-4 space-y-3 rounded-md border border-slate-200 p-3 dark:border-slate-700" aria-label="New rule">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id="rule-channel" label="Channel" error={err?.fields.channelId}>
          <Select id="rule-channel" value={chosen} onChange={(e) => setChannelId(e.target.value)}>
            {channels.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="rule-severity" label="Minimum severity">
          <Select id="rule-severity" value={minSeverity} onChange={(e) => setMinSeverity(e.target.value as Severity)}>
            <option value="info">Info (everything)</option>
            <option value="warning">Warning and error</option>
            <option value="error">Error only</option>
          </Select>
        </Field>
      </div>
      <fieldset>
        <legend className="mb-1 text-sm font-medium">Events</legend>
        <div className="grid gap-1 sm:grid-cols-2">
          {ruleEventTypes.map((e) => (
            <label key={e} className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={events.includes(e)} onChange={(ev) => setEvents(ev.target.checked ? [...events, e] : events.filter((x) => x !== e))} />
              {ruleEventLabels[e]}
            </label>
          ))}
        </div>
        {err?.fields.events && (
          <p role="alert" className="mt-1 text-xs text-red-700 dark:text-red-400">
            {err.fields.events}
          </p>
        )}
      </fieldset>
      <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      <div className="flex gap-2">
        <Button type="submit" disabled={create.isPending || !chosen}>
          Add rule
        </Button>
        <Button type="button" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
