'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';
import { Button, Card, ErrorBanner, Field, Input } from '@/components/ui';
import { signOutAction } from '@/lib/actions';
import { describeError, useTRPC } from '@/trpc/client';

/**
 * Signed out: create an account for the invited address, or sign in as it first (an existing
 * account never types its password here). Signed in as the invited address: one click. Signed in
 * as someone else: sign out first.
 */
export function AcceptInvitation({ token, signedIn, signedInAs }: { token: string; signedIn: boolean; signedInAs: string | null }) {
  const trpc = useTRPC();
  const preview = useQuery({ ...trpc.invitation.preview.queryOptions({ token }), retry: false });
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const accept = useMutation(
    trpc.invitation.accept.mutationOptions({
      onSuccess: async ({ email }) => {
        if (signedIn) {
          window.location.assign('/');
          return;
        }
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
  const here = `/invite/${token}`;
  const signInHref = `/sign-in?next=${encodeURIComponent(here)}`;
  const intro = (
    <>
      <h1 className="text-xl font-semibold">You are invited</h1>
      <p className="mb-4 mt-1 text-sm text-slate-600 dark:text-slate-400">
        {inv.customerName
          ? `${inv.organizationName} invites you to follow ${inv.customerName} on Tandem as ${inv.role}.`
          : `You are invited to join ${inv.organizationName} on Tandem as ${inv.role}.`}
      </p>
    </>
  );

  if (signedIn) {
    if (signedInAs?.toLowerCase() !== inv.email.toLowerCase()) {
      return (
        <Card>
          {intro}
          <p className="mb-4 text-sm">
            This invitation is for <strong>{inv.email}</strong>, but you are signed in as <strong>{signedInAs ?? 'another account'}</strong>.
            Sign out, then sign in as {inv.email} (or create its account) to accept it.
          </p>
          <form action={signOutAction}>
            <input type="hidden" name="next" value={here} />
            <Button type="submit" className="w-full">
              Sign out
            </Button>
          </form>
        </Card>
      );
    }
    return (
      <Card>
        {intro}
        <p className="mb-4 text-sm">
          You are signed in as <strong>{inv.email}</strong>.
        </p>
        <ErrorBanner message={err?.message ?? null} />
        <Button type="button" className="w-full" disabled={accept.isPending} onClick={() => accept.mutate({ token })}>
          Accept invitation
        </Button>
      </Card>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    accept.mutate({ token, password, name });
  };
  return (
    <Card>
      {intro}
      <p className="mb-4 text-sm">
        Already have a Tandem account with {inv.email}?{' '}
        <Link href={signInHref} className="font-medium underline">
          Sign in as {inv.email}
        </Link>{' '}
        and come back here to accept.
      </p>
      <form onSubmit={submit} className="space-y-4" aria-label="Accept invitation">
        <Field id="invite-email" label="E-mail">
          <Input id="invite-email" value={inv.email} readOnly />
        </Field>
        <Field id="invite-name" label="Your name" error={err?.fields.name}>
          <Input id="invite-name" value={name} onChange={(e) => setName(e.target.value)} required autoComplete="name" />
        </Field>
        <Field id="invite-password" label="Choose a password" help="At least 12 characters." error={err?.fields.password}>
          <Input
            id="invite-password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete="new-password"
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
