'use client';

import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError, useTRPC } from '@/trpc/client';
import { Button, ErrorBanner } from './ui';

/** "Add server": a fresh single-use token in a command to paste on the server. */
export function AddServer({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const create = useMutation(trpc.agent.createEnrollment.mutationOptions());
  const start = () => {
    setOpen(true);
    create.mutate({ customerId });
  };
  if (!open) return <Button onClick={start}>Add server</Button>;
  return (
    <div className="w-full rounded-md border border-sky-200 bg-sky-50 p-3 text-sm dark:border-sky-900 dark:bg-sky-950" role="region" aria-label="Add server">
      <ErrorBanner message={create.error ? describeError(create.error).message : null} />
      {create.data && (
        <div className="space-y-2">
          <p>
            Run this as root on the Linux server (it needs Node.js 20 or later). The server appears below as soon as its agent
            connects. The token works once and expires at {new Date(create.data.expiresAt).toLocaleTimeString()}.
          </p>
          <pre className="overflow-x-auto whitespace-pre-wrap break-all rounded bg-slate-900 p-2 font-mono text-xs text-slate-100" data-testid="enroll-command">
            {create.data.linuxCommand}
          </pre>
          <p className="text-xs text-slate-600 dark:text-slate-400">
            Windows (elevated PowerShell, with Node.js installed and the agent file downloaded):{' '}
            <code className="font-mono">node tandem-agent.mjs {create.data.enrollCommand.replace('tandem-agent ', '')}; node tandem-agent.mjs install-service</code>
          </p>
          <div className="flex gap-2">
            <Button variant="secondary" onClick={() => void navigator.clipboard?.writeText(create.data.linuxCommand)}>
              Copy command
            </Button>
            <Button variant="ghost" onClick={() => setOpen(false)}>
              Close
            </Button>
          </div>
        </div>
      )}
    </div>
  );
}
