'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Badge, Button, Card, ErrorBanner, Field, Input, PageHeader } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { ChangePasswordCard } from './change-password-card';

export function AccountView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const me = useQuery(trpc.account.me.queryOptions());
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.account.me.queryKey() });
  const begin = useMutation(trpc.account.totpBegin.mutationOptions({ onSuccess: (s) => setSetup(s) }));
  const enable = useMutation(
    trpc.account.totpEnable.mutationOptions({
      onSuccess: async () => {
        setSetup(null);
        setCode('');
        await refresh();
      },
    }),
  );
  const disable = useMutation(
    trpc.account.totpDisable.mutationOptions({
      onSuccess: async () => {
        setCode('');
        await refresh();
      },
    }),
  );
  const err = [begin, enable, disable].find((m) => m.error)?.error;
  const e = err ? describeError(err) : null;

  if (!me.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    if (me.data.totpEnabled) disable.mutate({ code });
    else enable.mutate({ code });
  };
  return (
    <>
      <PageHeader title="Your account" description={`${me.data.name} · ${me.data.email}`} />
      <Card>
        <h2 className="text-lg font-semibold">
          Two-factor sign-in {me.data.totpEnabled ? <Badge tone="green">on</Badge> : <Badge>off</Badge>}
        </h2>
        <p className="mb-3 mt-1 text-sm text-slate-600 dark:text-slate-400">
          With two-factor sign-in, signing in needs your password and a 6-digit code from an authenticator app on your phone.
          Turning it on or off signs you out everywhere else (this browser stays signed in).
        </p>
        <ErrorBanner message={e?.message} />
        {!me.data.totpEnabled && !setup && <Button onClick={() => begin.mutate()}>Set up two-factor sign-in</Button>}
        {setup && (
          <div className="mb-3 space-y-2 text-sm">
            <p>Add this key to your authenticator app (choose “enter a setup key”, time-based):</p>
            <code className="block break-all rounded bg-slate-100 p-2 font-mono dark:bg-slate-800" data-testid="totp-secret">
              {setup.secret}
            </code>
            <p className="text-xs text-slate-500">
              Or open this link on the phone: <a className="break-all underline" href={setup.uri}>{setup.uri}</a>
            </p>
          </div>
        )}
        {(setup || me.data.totpEnabled) && (
          <form onSubmit={submit} className="mt-3 flex max-w-sm items-end gap-2" aria-label="Two-factor code">
            <Field id="totp-code" label={me.data.totpEnabled ? 'Code, to turn it off' : 'Code from the app'} error={e?.fields.code}>
              <Input id="totp-code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(ev) => setCode(ev.target.value)} required />
            </Field>
            <Button type="submit" variant={me.data.totpEnabled ? 'danger' : 'primary'}>
              {me.data.totpEnabled ? 'Turn off' : 'Turn on'}
            </Button>
          </form>
        )}
      </Card>
      <ChangePasswordCard />
    </>
  );
}
