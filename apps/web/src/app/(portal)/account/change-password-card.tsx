'use client';

import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button, Card, ErrorBanner, Field, Input } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function ChangePasswordCard() {
  const trpc = useTRPC();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState<number | null>(null);
  const change = useMutation(
    trpc.account.changePassword.mutationOptions({
      onSuccess: (r) => {
        setCurrent('');
        setNext('');
        setDone(r.otherSessionsEnded);
      },
    }),
  );
  const e = change.error ? describeError(change.error) : null;
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    setDone(null);
    change.mutate({ currentPassword: current, newPassword: next });
  };
  return (
    <Card className="mt-4">
      <h2 className="text-lg font-semibold">Password</h2>
      <p className="mb-3 mt-1 text-sm text-slate-600 dark:text-slate-400">
        Changing your password signs you out everywhere else (this browser stays signed in).
      </p>
      <form onSubmit={submit} className="max-w-sm space-y-4" aria-label="Change password">
        <Field id="current-password" label="Current password" error={e?.fields.currentPassword}>
          <Input
            id="current-password"
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(ev) => setCurrent(ev.target.value)}
            required
          />
        </Field>
        <Field id="new-password" label="New password" help="At least 12 characters." error={e?.fields.newPassword}>
          <Input id="new-password" type="password" autoComplete="new-password" value={next} onChange={(ev) => setNext(ev.target.value)} required />
        </Field>
        <ErrorBanner message={e && Object.keys(e.fields).length === 0 ? e.message : null} />
        {done !== null && (
          <p role="status" className="text-sm text-green-700 dark:text-green-400">
            Password changed.{done > 0 ? ` ${done} other session${done === 1 ? '' : 's'} signed out.` : ''}
          </p>
        )}
        <Button type="submit" disabled={change.isPending}>
          Change password
        </Button>
      </form>
    </Card>
  );
}
