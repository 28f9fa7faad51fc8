'use client';

// The organization's outgoing mail server. The password is never shown: leaving the field empty
// keeps the stored one. "Send test e-mail" queues a message; its outcome shows in the delivery log.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Badge, Button, Card, ErrorBanner, Field, Input, Select } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

type Security = 'none' | 'starttls' | 'tls';
const defaultPort: Record<Security, number> = { none: 25, starttls: 587, tls: 465 };

export function SmtpCard() {
  const trpc = useTRPC();
  const settings = useQuery(trpc.alert.smtp.get.queryOptions());
  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Mail server</h2>
        {settings.data ? <Badge tone="green">Configured</Badge> : settings.data === null ? <Badge tone="amber">Not set up</Badge> : null}
      </div>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        Alert, approval and invitation e-mails go out through this SMTP server. The password is sealed when saved and never shown again.
      </p>
      {settings.error && <ErrorBanner message={describeError(settings.error).message} />}
      {settings.data !== undefined && <SmtpForm key={settings.data ? 'saved' : 'new'} saved={settings.data} />}
      {settings.data && <SmtpTest />}
    </Card>
  );
}

function SmtpForm({ saved }: { saved: { host: string; port: number; security: Security; username: string | null; hasPassword: boolean; fromAddress: string; fromName: string } | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [host, setHost] = useState(saved?.host ?? '');
  const [security, setSecurity] = useState<Security>(saved?.security ?? 'starttls');
  const [port, setPort] = useState(String(saved?.port ?? 587));
  const [username, setUsername] = useState(saved?.username ?? '');
  const [password, setPassword] = useState('');
  const [fromAddress, setFromAddress] = useState(saved?.fromAddress ?? '');
  const [fromName, setFromName] = useState(saved?.fromName ?? 'Tandem');
  const set = useMutation(
    trpc.alert.smtp.set.mutationOptions({
      onSuccess: async () => {
        // The stored password is never shown again; the field goes back to "keep it".
        setPassword('');
        await qc.invalidateQueries({ queryKey: trpc.alert.smtp.pathKey() });
      },
    }),
  );
  const err = set.error ? describeError(set.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    set.mutate({ host, port: Number(port), security, username, password, fromAddress, fromName });
  };
  return (
    <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2" aria-label="Mail server settings">
      <Field id="smtp-host" label="Host" error={err?.fields.host}>
        <Input id="smtp-host" value={host} onChange={(e) => setHost(e.target.value)} placeholder="smtp.example.com" aria-invalid={!!err?.fields.host} required />
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field id="smtp-security" label="Security" error={err?.fields.security}>
          <Select
            id="smtp-security"
            value={security}
            onChange={(e) => {
              const next = e.target.value as Security;
              if (port === String(defaultPort[security])) setPort(String(defaultPort[next]));
              setSecurity(next);
            }}
          >
            <option value="starttls">STARTTLS</option>
            <option value="tls">TLS</option>
            <option value="none">None</option>
          </Select>
        </Field>
        <Field id="smtp-port" label="Port" error={err?.fields.port}>
          <Input id="smtp-port" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} aria-invalid={!!err?.fields.port} required />
        </Field>
      </div>
      <Field id="smtp-username" label="User name" help="Leave empty if the server needs no sign-in." error={err?.fields.username}>
        <Input id="smtp-username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      </Field>
      <Field id="smtp-password" label="Password" help={saved?.hasPassword ? 'A password is stored; leave empty to keep it.' : undefined} error={err?.fields.password}>
        <Input id="smtp-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" disabled={!username} />
      </Field>
      <Field id="smtp-from-address" label="From address" error={err?.fields.fromAddress}>
        <Input id="smtp-from-address" type="email" value={fromAddress} onChange={(e) => setFromAddress(e.target.value)} aria-invalid={!!err?.fields.fromAddress} required />
      </Field>
      <Field id="smtp-from-name" label="From name" error={err?.fields.fromName}>
        <Input id="smtp-from-name" value={fromName} onChange={(e) => setFromName(e.target.value)} aria-invalid={!!err?.fields.fromName} required />
      </Field>
      <div className="flex items-center gap-3 sm:col-span-2">
        <Button type="submit" disabled={set.isPending}>
          Save mail server
        </Button>
        {set.isSuccess && <span className="text-sm text-emerald-700 dark:text-emerald-400">Saved.</span>}
      </div>
      <div className="sm:col-span-2">
        <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      </div>
    </form>
  );
}

function SmtpTest() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [to, setTo] = useState('');
  const test = useMutation(trpc.alert.smtp.test.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.alert.delivery.pathKey() }) }));
  const err = test.error ? describeError(test.error) : null;
  return (
    <form
      className="mt-4 flex flex-wrap items-end gap-2 border-t border-slate-200 pt-4 dark:border-slate-800"
      aria-label="Send a test e-mail"
      onSubmit={(e) => {
        e.preventDefault();
        test.mutate({ to });
      }}
    >
      <div className="min-w-64 flex-1">
        <Field id="smtp-test-to" label="Send a test e-mail to" error={err?.fields.to}>
          <Input id="smtp-test-to" type="email" value={to} onChange={(e) => setTo(e.target.value)} aria-invalid={!!err?.fields.to} required />
        </Field>
      </div>
      <Button type="submit" variant="secondary" disabled={test.isPending}>
        Send test e-mail
      </Button>
      {test.isSuccess && <p className="w-full text-sm text-emerald-700 dark:text-emerald-400">Queued. Its delivery shows in the log below.</p>}
      <div className="w-full">
        <ErrorBanner message={err && !err.fields.to ? err.message : null} />
      </div>
    </form>
  );
}
