'use client';

// The organization's alert channels: list, create (a webhook's signing secret shown once),
// enable/disable, send test, rotate the signing secret, delete. Admins change; operators test.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Badge, Button, Card, ErrorBanner, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { ChannelForm, presetLabels } from './channel-form';
import { SecretOnce } from './secret-once';

export function ChannelsCard({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.alert.channel.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ label: string; secret: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.alert.pathKey() });
  const update = useMutation(trpc.alert.channel.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.alert.channel.remove.mutationOptions({ onSuccess: () => (setRemoving(null), refresh()) }));
  const sendTest = useMutation(trpc.alert.channel.sendTest.mutationOptions({ onSuccess: () => (setNotice('Test queued. Its delivery shows in the log below.'), refresh()) }));
  const rotate = useMutation(trpc.alert.channel.rotateSecret.mutationOptions());
  const failed = [update, remove, sendTest, rotate].find((m) => m.error)?.error;

  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Channels</h2>
        {canEdit && !creating && <Button onClick={() => (setCreating(true), setShown(null))}>New channel</Button>}
      </div>
      {creating && (
        <div className="mb-4 rounded-md border border-slate-200 p-3 dark:border-slate-700">
          <ChannelForm
            onCancel={() => setCreating(false)}
            onCreated={(name, secret) => {
              setCreating(false);
              if (secret) setShown({ label: `Signing secret of “${name}”`, secret });
            }}
          />
        </div>
      )}
      {shown && <SecretOnce label={shown.label} secret={shown.secret} onDone={() => setShown(null)} />}
      {list.error && <ErrorBanner message={describeError(list.error).message} />}
      {list.data?.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">No channels yet. Add an e-mail list or a webhook (Slack, Teams, PagerDuty or your own endpoint).</p>}
      {list.data && list.data.length > 0 && (
        <div className="overflow-x-auto">
          <table className={t.table} aria-label="Channels">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Name</th>
                <th className={t.cell}>Kind</th>
                <th className={t.cell}>Sends to</th>
                <th className={t.cell}>Rules</th>
                <th className={t.cell}>State</th>
                <th className={t.cell}>Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((c) => (
                <tr key={c.id} className={t.row} data-channel={c.name}>
                  <td className={`${t.cell} font-medium`}>{c.name}</td>
                  <td className={t.cell}>{c.kind === 'email' ? 'E-mail' : presetLabels[c.preset ?? 'standard']}</td>
                  <td className={`${t.cell} break-all font-mono text-xs`}>{c.kind === 'email' ? c.addresses.join(', ') : c.url}</td>
                  <td className={t.cell}>{c.ruleCount}</td>
                  <td className={t.cell}>{c.enabled ? <Badge tone="green">Enabled</Badge> : <Badge tone="slate">Disabled</Badge>}</td>
                  <td className={t.cell}>
                    <div className="flex flex-wrap gap-1">
                      <Button variant="secondary" aria-label={`Send test to ${c.name}`} disabled={sendTest.isPending} onClick={() => (setNotice(null), sendTest.mutate({ channelId: c.id }))}>
                        Send test
                      </Button>
                      {canEdit && (
                        <>
                          <Button variant="secondary" aria-label={`${c.enabled ? 'Disable' : 'Enable'} ${c.name}`} onClick={() => update.mutate({ channelId: c.id, enabled: !c.enabled })}>
                            {c.enabled ? 'Disable' : 'Enable'}
                          </Button>
                          {c.kind === 'webhook' && c.preset !== 'pagerduty' && (
                            <Button
                              variant="ghost"
                              aria-label={`Rotate the signing secret of ${c.name}`}
                              onClick={() => rotate.mutate({ channelId: c.id }, { onSuccess: (r) => setShown({ label: `New signing secret of “${c.name}”`, secret: r.secret }) })}
                            >
                              Rotate secret
                            </Button>
                          )}
                          {removing === c.id ? (
                            <>
                              <Button variant="danger" onClick={() => remove.mutate({ channelId: c.id })} disabled={remove.isPending}>
                                Yes, delete it and its rules (the log stays)
                              </Button>
                              <Button variant="ghost" onClick={() => setRemoving(null)}>
                                Keep
                              </Button>
                            </>
                          ) : (
                            <Button variant="ghost" aria-label={`Delete ${c.name}`} onClick={() => setRemoving(c.id)}>
                              Delete
                            </Button>
                          )}
                        </>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {notice && <p role="status" className="mt-3 text-sm text-emerald-700 dark:text-emerald-400">{notice}</p>}
      <div className="mt-3">
        <ErrorBanner message={failed ? describeError(failed).message : null} />
      </div>
    </Card>
  );
}
