'use client';

// New alert channel: e-mail (addresses) or webhook (URL and payload preset; PagerDuty takes its
// routing key). A webhook's signing secret comes back once, in the answer.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { webhookPresets, type WebhookPreset } from '@tandem/engine';
import { Button, ErrorBanner, Field, Input, Select, Textarea } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export const presetLabels: Record<WebhookPreset, string> = {
  standard: 'Standard Webhooks (signed JSON)',
  slack: 'Slack incoming webhook',
  teams: 'Microsoft Teams incoming webhook',
  pagerduty: 'PagerDuty Events v2',
};

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

export function ChannelForm({ onCreated, onCancel }: { onCreated: (name: string, secret: string | null) => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [kind, setKind] = useState<'email' | 'webhook'>('webhook');
  const [name, setName] = useState('');
  const [addresses, setAddresses] = useState('');
  const [url, setUrl] = useState('');
  const [preset, setPreset] = useState<WebhookPreset>('standard');
  const [routingKey, setRoutingKey] = useState('');
  const create = useMutation(
    trpc.alert.channel.create.mutationOptions({
      onSuccess: async (res) => {
        await qc.invalidateQueries({ queryKey: trpc.alert.channel.pathKey() });
        onCreated(res.channel.name, res.secret);
      },
    }),
  );
  const err = create.error ? describeError(create.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (kind === 'email') {
      create.mutate({ kind, name, addresses: addresses.split(/[\s,;]+/).filter(Boolean) });
    } else {
      create.mutate({ kind, name, url, preset, ...(preset === 'pagerduty' ? { routingKey } : {}) });
    }
  };
  const addressError = err ? Object.entries(err.fields).find(([k]) => k.startsWith('addresses'))?.[1] : undefined;
  return (
    <form onSubmit={submit} className="space-y-3" aria-label="New channel">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id="channel-kind" label="Kind">
          <Select id="channel-kind" value={kind} onChange={(e) => setKind(e.target.value as 'email' | 'webhook')}>
            <option value="webhook">Webhook</option>
            <option value="email">E-mail</option>
          </Select>
        </Field>
        <Field id="channel-name" label="Name" error={err?.fields.name}>
          <Input id="channel-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="On-call Slack" aria-invalid={!!err?.fields.name} required />
        </Field>
      </div>
      {kind === 'email' ? (
        <Field id="channel-addresses" label="Addresses" help="One or more e-mail addresses, separated by commas or new lines." error={addressError}>
          <Textarea id="channel-addresses" rows={2} value={addresses} onChange={(e) => setAddresses(e.target.value)} aria-invalid={!!addressError} />
        </Field>
      ) : (
        <>
          <Field id="channel-preset" label="Payload" error={err?.fields.preset}>
            <Select
              id="channel-preset"
              value={preset}
              onChange={(e) => {
                const next = e.target.value as WebhookPreset;
                if (next === 'pagerduty' && !url) setUrl(PAGERDUTY_URL);
                setPreset(next);
              }}
            >
              {webhookPresets.map((p) => (
                <option key={p} value={p}>
                  {presetLabels[p]}
                </option>
              ))}
            </Select>
          </Field>
          <Field id="channel-url" label="URL" error={err?.fields.url}>
            <Input id="channel-url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/tandem" aria-invalid={!!err?.fields.url} required />
          </Field>
          {preset === 'pagerduty' && (
            <Field id="channel-routing-key" label="Routing key" help="The integration key of the PagerDuty service. It is sealed and never shown again." error={err?.fields.routingKey}>
              <Input id="channel-routing-key" type="password" value={routingKey} onChange={(e) => setRoutingKey(e.target.value)} autoComplete="off" aria-invalid={!!err?.fields.routingKey} />
            </Field>
          )}
        </>
      )}
      <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      <div className="flex gap-2">
        <Button type="submit" disabled={create.isPending}>
          Create channel
        </Button>
        <Button type="button" variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
