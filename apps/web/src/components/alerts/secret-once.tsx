'use client';

import { useState } from 'react';
import { Button } from '@/components/ui';

/** A secret shown this one time, with a copy button; it cannot be shown again. */
export function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div role="status" className="mb-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950">
      <p className="mb-2 font-medium">{label}</p>
      <p className="mb-2 text-slate-700 dark:text-slate-300">Copy it now into the receiving system: it is shown only this once.</p>
      <div className="flex flex-wrap items-center gap-2">
        <code data-testid="signing-secret" className="break-all rounded bg-white px-2 py-1 font-mono text-xs dark:bg-slate-900">
          {secret}
        </code>
        <Button
          variant="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Done
        </Button>
      </div>
    </div>
  );
}
