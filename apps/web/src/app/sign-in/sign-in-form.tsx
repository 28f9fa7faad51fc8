'use client';

import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';
import { Button, ErrorBanner, Field, Input } from '@/components/ui';

function messageFor(code: string | undefined): string {
  if (code?.startsWith('rate_limited')) {
    const seconds = code.split(':')[1];
    return `Too many failed sign-ins. Wait ${seconds && seconds !== 'undefined' ? `${seconds} seconds` : 'a while'} and try again.`;
  }
  switch (code) {
    case 'totp_required':
      return 'Enter the 6-digit code from your authenticator app.';
    case 'totp_invalid':
      return 'That code does not match. Try the next one.';
    default:
      return 'Wrong e-mail or password.';
  }
}

export function SignInForm({ next = null }: { next?: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const res = await signIn('credentials', { email, password, totp, redirect: false });
    setBusy(false);
    if (!res || res.error) {
      if (res?.code === 'totp_required' || res?.code === 'totp_invalid') setNeedTotp(true);
      setError(messageFor(res?.code));
      return;
    }
    window.location.assign(next ?? '/');
  };

  return (
    <form onSubmit={submit} className="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-label="Sign in">
      <Field id="email" label="E-mail">
        <Input id="email" name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
      </Field>
      <Field id="password" label="Password">
        <Input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      {needTotp && (
        <Field id="totp" label="Authenticator code">
          <Input id="totp" name="totp" inputMode="numeric" autoComplete="one-time-code" value={totp} onChange={(e) => setTotp(e.target.value)} autoFocus />
        </Field>
      )}
      <ErrorBanner message={error} />
      <Button type="submit" className="w-full" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </Button>
    </form>
  );
}
