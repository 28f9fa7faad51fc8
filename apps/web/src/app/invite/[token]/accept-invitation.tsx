'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';
import { Button, Card, ErrorBanner, Field, Input } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function AcceptInvitation({ token }: { token: string }) {
  const trpc = useTRPC();
  const preview = useQuery({ ...trpc.invitation.preview.queryOptions({ token }), retry: false });
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const accept = useMutation(
    trpc.invitation.accept.mutationOptions({
      onSuccess: async ({ email }) => {
        const res = await signIn('credentials', { email, password, redirect: false });
        window.location.assign(res && !res.error ? '/' : '/sign-in');
      },
    }),
  );

  if (preview.error) {
    return (
      <Card>
        <h1 className="text-xl font-semibold">Invitation</h1>
        <ErrorBanner message={describeError(preview.error).message} />
      </Card>
    );
  }
  if (!preview.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const inv = preview.data;
  const err = accept.error ? describeError(accept.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    accept.mutate({ token, password, name: inv.hasAccount ? undefined : name });
  };
  return (
    <Card>
      <h1 className="text-xl font-semibold">You are invited</h1>
      <p className="mb-4 mt-1 text-sm text-slate-600 dark:text-slate-400">
        {inv.customerName
          ? `${inv.organizationName} invites you to follow ${inv.customerName} on Tandem as ${inv.role}.`
          : `You are invited to join ${inv.organizationName} on Tandem as ${inv.role}.`}
      </p>
      <form onSubmit={submit} className="space-y-4" aria-label="Accept invitation">
        <Field id="invite-email" label="E-mail">
          <Input id="invite-email" value={inv.email} readOnly />
        </Field>
        {!inv.hasAccount && (
          <Field id="invite-name" label="Your name" error={err?.fields.name}>
            <Input id="invite-name" value={name} onChange={(e) => setName(e.target.value)} required autoComplete="name" />
          </Field>
        )}
        <Field
          id="invite-password"
          label={inv.hasAccount ? 'Your current password' : 'Choose a password'}
          help={inv.hasAccount ? 'You already have a Tandem account with this e-mail.' : 'At least 12 characters.'}
          error={err?.fields.password}
        >
          <Input
            id="invite-password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete={inv.hasAccount ? 'current-password' : 'new-password'}
          />
        </Field>
        <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
        <Button type="submit" className="w-full" disabled={accept.isPending}>
          Accept invitation
        </Button>
      </form>
    </Card>
  );
}
