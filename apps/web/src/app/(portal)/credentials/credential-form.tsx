'use client';

// Create or edit a credential. The secret is write-only: it is sent once, sealed by the server
// and never shown again; editing leaves it empty, which keeps the stored one.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, ErrorBanner, Field, Input, Select } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export interface CredentialRow {
  id: string;
  name: string;
  kind: 'dns_tsig' | 'domain';
  customerId: string | null;
  publicInfo: { keyName?: string; algorithm?: 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1'; user?: string };
  lastVerifiedAt: string | null;
  expiresAt: string | null;
  createdAt: string;
}

const algorithms = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const;

export function CredentialForm({
  editing,
  customers,
  onDone,
}: {
  /** null: a new credential. */
  editing: CredentialRow | null;
  customers: { id: string; name: string }[];
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [kind, setKind] = useState<'dns_tsig' | 'domain'>(editing?.kind ?? 'dns_tsig');
  const [name, setName] = useState(editing?.name ?? '');
  const [customerId, setCustomerId] = useState(editing?.customerId ?? '');
  const [keyName, setKeyName] = useState(editing?.publicInfo.keyName ?? '');
  const [algorithm, setAlgorithm] = useState<(typeof algorithms)[number]>(editing?.publicInfo.algorithm ?? 'hmac-sha256');
  const [user, setUser] = useState(editing?.publicInfo.user ?? '');
  const [expiresAt, setExpiresAt] = useState(editing?.expiresAt ?? '');
  // Never pre-filled: the server never sends a secret back.
  const [secret, setSecret] = useState('');
  const done = async () => {
    setSecret('');
    await qc.invalidateQueries({ queryKey: trpc.credential.pathKey() });
    onDone();
  };
  const create = useMutation(trpc.credential.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.credential.update.mutationOptions({ onSuccess: done }));
  const m = editing ? update : create;
  const err = m.error ? describeError(m.error) : null;
  const f = (k: string) => err?.fields[k];
  const tsig = kind === 'dns_tsig';
  const idp = editing ? 'cred-edit' : 'cred-new';
  const submit = () => {
    if (editing) {
      update.mutate(
        tsig
          ? { id: editing.id, name, keyName, algorithm, secret, expiresAt: expiresAt || null }
          : { id: editing.id, name, user, password: secret, expiresAt: expiresAt || null },
      );
    } else {
      create.mutate(
        tsig
          ? { kind: 'dns_tsig', name, customerId: customerId || null, keyName, algorithm, secret, expiresAt: expiresAt || null }
          : { kind: 'domain', name, customerId: customerId || null, user, password: secret, expiresAt: expiresAt || null },
      );
    }
  };
  const secretLabel = tsig ? 'Secret (base64)' : 'Password';
  const secretHelp = editing
    ? `Leave empty to keep the current ${tsig ? 'secret' : 'password'}. It is never shown again.`
    : tsig
      ? 'The key’s secret as in its key file (secret "…";). Sealed when saved and never shown again, not even to you.'
      : 'Sealed when saved and never shown again, not even to you.';
  return (
    <form
      aria-label={editing ? `Edit credential ${editing.name}` : 'New credential'}
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      autoComplete="off"
    >
      <div className="grid gap-4 sm:grid-cols-2">
        {!editing && (
          <Field id={`${idp}-kind`} label="Kind" help="A TSIG key signs RFC 2136 updates (BIND and most DNS servers); a domain account changes Active Directory-integrated zones through a Windows agent.">
            <Select id={`${idp}-kind`} value={kind} onChange={(e) => setKind(e.target.value as 'dns_tsig' | 'domain')}>
              <option value="dns_tsig">TSIG key</option>
              <option value="domain">Domain account</option>
            </Select>
          </Field>
        )}
        <Field id={`${idp}-name`} label="Name" help="How this credential is listed when a pair picks one." error={f('name')}>
          <Input id={`${idp}-name`} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!f('name')} />
        </Field>
        {!editing && (
          <Field id={`${idp}-customer`} label="Usable for" help="One customer’s pairs, or every customer of the organization." error={f('customerId')}>
            <Select id={`${idp}-customer`} value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
              <option value="">Every customer</option>
              {customers.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          </Field>
        )}
        {tsig ? (
          <>
            <Field id={`${idp}-key-name`} label="Key name" help={'The key’s name as the DNS server knows it (key "…" in named.conf).'} error={f('keyName')}>
              <Input id={`${idp}-key-name`} className="font-mono" value={keyName} onChange={(e) => setKeyName(e.target.value)} aria-invalid={!!f('keyName')} />
            </Field>
            <Field id={`${idp}-algorithm`} label="Algorithm" help="hmac-sha256 unless the server’s key says otherwise." error={f('algorithm')}>
              <Select id={`${idp}-algorithm`} value={algorithm} onChange={(e) => setAlgorithm(e.target.value as (typeof algorithms)[number])}>
                {algorithms.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </Select>
            </Field>
          </>
        ) : (
          <Field id={`${idp}-user`} label="Account" help={'A domain account allowed to update the zone, such as CORP\\tandem-dns.'} error={f('user')}>
            <Input id={`${idp}-user`} value={user} onChange={(e) => setUser(e.target.value)} aria-invalid={!!f('user')} />
          </Field>
        )}
        <Field id={`${idp}-secret`} label={secretLabel} help={secretHelp} error={f(tsig ? 'secret' : 'password')}>
          <Input
            id={`${idp}-secret`}
            type="password"
            autoComplete="new-password"
            className="font-mono"
            value={secret}
            placeholder={editing ? 'Leave empty to keep the current one' : undefined}
            onChange={(e) => setSecret(e.target.value)}
            aria-invalid={!!f(tsig ? 'secret' : 'password')}
          />
        </Field>
        <Field id={`${idp}-expires`} label="Expires on (optional)" help="When the key or password stops working, if you know it: alerting warns 14 days ahead." error={f('expiresAt')}>
          <Input id={`${idp}-expires`} type="date" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} aria-invalid={!!f('expiresAt')} />
        </Field>
      </div>
      <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      <div className="flex justify-end gap-2">
        <Button type="button" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" disabled={m.isPending}>
          {m.isPending ? 'Saving…' : editing ? 'Save credential' : 'Create credential'}
        </Button>
      </div>
    </form>
  );
}
