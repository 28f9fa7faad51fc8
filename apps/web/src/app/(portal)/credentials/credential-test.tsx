'use client';

// "Can this credential update this zone?": an agent of the customer (the executor) asks the DNS
// server with the key; the answer says yes, or exactly what went wrong.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, ErrorBanner, Field, Input, Select } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import type { CredentialRow } from './credential-form';

export function CredentialTest({ credential, onClose }: { credential: CredentialRow; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const customers = useQuery({ ...trpc.customer.list.queryOptions({}), enabled: !credential.customerId });
  const [customerId, setCustomerId] = useState(credential.customerId ?? '');
  const servers = useQuery({ ...trpc.server.list.queryOptions({ customerId }), enabled: !!customerId });
  const [zone, setZone] = useState('');
  const [server, setServer] = useState('');
  const [executorServerId, setExecutor] = useState('');
  const test = useMutation(
    trpc.credential.test.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.credential.pathKey() }) }),
  );
  const err = test.error ? describeError(test.error) : null;
  const usable = (servers.data ?? []).filter((s) => s.agentStatus === 'online' || s.agentStatus === 'offline');
  return (
    <form
      aria-label={`Test credential ${credential.name}`}
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        test.mutate({ id: credential.id, zone, servers: [server.trim()], executorServerId });
      }}
    >
      <p className="text-sm text-slate-600 dark:text-slate-400">
        The chosen agent adds a test record (tandem-check in the zone, pointing at the unrouted 192.0.2.1) with this
        credential and removes it again; the answer says whether the credential may update the zone.
      </p>
      <div className="grid gap-4 sm:grid-cols-2">
        {!credential.customerId && (
          <Field id="cred-test-customer" label="Customer" help="Whose agent runs the test.">
            <Select id="cred-test-customer" value={customerId} onChange={(e) => (setCustomerId(e.target.value), setExecutor(''))}>
              <option value="">Choose a customer</option>
              {(customers.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          </Field>
        )}
        <Field id="cred-test-executor" label="Executor" help="The agent that talks to the DNS server; it must be online." error={err?.fields.executorServerId}>
          <Select id="cred-test-executor" value={executorServerId} onChange={(e) => setExecutor(e.target.value)} disabled={!customerId}>
            <option value="">Choose a server</option>
            {usable.map((s) => (
              <option key={s.id} value={s.id}>
                {s.hostname}
                {s.agentStatus === 'offline' ? ' (agent offline)' : ''}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="cred-test-zone" label="Zone" help="The zone the key should be allowed to update, e.g. corp.example.com." error={err?.fields.zone}>
          <Input id="cred-test-zone" className="font-mono" value={zone} onChange={(e) => setZone(e.target.value)} />
        </Field>
        <Field id="cred-test-server" label="DNS server" help="An address, optionally with a port: 10.0.0.2, 10.0.0.2:5353 or [2001:db8::2]:53." error={err?.fields.servers ?? err?.fields['servers.0']}>
          <Input id="cred-test-server" className="font-mono" value={server} onChange={(e) => setServer(e.target.value)} />
        </Field>
      </div>
      {test.data && (
        <div
          role="status"
          data-testid="credential-test-result"
          data-ok={test.data.ok}
          className={
            test.data.ok
              ? 'rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100'
              : 'rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100'
          }
        >
          {test.data.ok ? 'Works: ' : 'Does not work: '}
          {test.data.message}
        </div>
      )}
      <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      <div className="flex justify-end gap-2">
        <Button type="button" variant="ghost" onClick={onClose}>
          Close
        </Button>
        <Button type="submit" disabled={test.isPending || !zone || !server || !executorServerId}>
          {test.isPending ? 'Testing…' : 'Run test'}
        </Button>
      </div>
    </form>
  );
}
