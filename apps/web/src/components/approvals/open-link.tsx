'use client';

// Opens the one-time link from an approval e-mail (the person is signed in by now), switches to
// the workspace that reaches the request, and goes to its page. A bad, used or expired link, or
// one sent to someone else, gets a clear page instead.
import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef } from 'react';
import { Card, ErrorBanner } from '@/components/ui';
import { switchWorkspace } from '@/lib/actions';
import { describeError, useTRPC } from '@/trpc/client';

export function OpenApprovalLink({ token }: { token: string }) {
  const trpc = useTRPC();
  const started = useRef(false);
  const open = useMutation(
    trpc.approval.openLink.mutationOptions({
      onSuccess: async (r) => {
        if (r.workspaceKey) {
          const form = new FormData();
          form.set('workspace', r.workspaceKey);
          await switchWorkspace(form);
        }
        window.location.assign(`/approvals/${r.approvalId}`);
      },
    }),
  );
  useEffect(() => {
    // Once: the link works a single time.
    if (started.current) return;
    started.current = true;
    open.mutate({ token });
  }, [open, token]);
  return (
    <main className="mx-auto max-w-xl px-4 py-16">
      <Card>
        <h1 className="mb-2 text-xl font-semibold">Failover approval</h1>
        {open.error ? (
          <>
            <ErrorBanner message={describeError(open.error).message} />
            <p className="mt-3 text-sm">
              <Link href="/approvals" className="text-sky-700 hover:underline dark:text-sky-400">
                Go to Approvals
              </Link>
            </p>
          </>
        ) : (
          <p className="text-sm text-slate-600 dark:text-slate-400" role="status">
            Opening the request…
          </p>
        )}
      </Card>
    </main>
  );
}
