import Link from 'next/link';
import type { ReactNode } from 'react';
import { signOutAction } from '@/lib/actions';
import { listWorkspaces, type Actor } from '@/server/actor';
import { ThemeToggle } from './theme-toggle';
import { WorkspaceSwitcher } from './workspace-switcher';

/** The portal frame: navigation by role, the organization switcher, theme and sign-out. */
export async function Shell({ actor, children }: { actor: Actor; children: ReactNode }) {
  const found = await listWorkspaces(actor.userId);
  const workspaces = found?.workspaces ?? [];
  const activeKey = actor.kind === 'customer' ? `customer:${actor.customerId}` : `org:${actor.organizationId}`;
  const nav =
    actor.kind === 'staff'
      ? [
          { href: '/dashboard', label: 'Dashboard' },
          { href: '/customers', label: 'Customers' },
          { href: '/approvals', label: 'Approvals' },
          { href: '/drills', label: 'Drills' },
          { href: '/alerts', label: 'Alerts' },
          { href: '/users', label: 'Users' },
          { href: '/credentials', label: 'Credentials' },
          { href: '/audit', label: 'Audit' },
        ]
      : [
          { href: `/customers/${actor.customerId}`, label: 'Overview' },
          { href: '/approvals', label: 'Approvals' },
          { href: `/customers/${actor.customerId}/reports`, label: 'Reports' },
          { href: '/audit', label: 'Audit' },
        ];
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2 focus:text-slate-900">
        Skip to content
      </a>
      <header className="bg-slate-900 text-slate-100 print:hidden">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link href="/" className="text-lg font-semibold tracking-tight text-white">
            Tandem
          </Link>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
            {nav.map((n) => (
              <Link key={n.href} href={n.href} className="rounded-md px-2 py-1 text-sm text-slate-300 hover:bg-slate-800 hover:text-white">
                {n.label}
              </Link>
            ))}
          </nav>
          <div className="ml-auto flex flex-wrap items-center gap-2">
            {workspaces.length > 1 ? (
              <WorkspaceSwitcher
                activeKey={activeKey}
                workspaces={workspaces.map((w) => ({
                  key: w.key,
                  label: w.customerName ? `${w.customerName} (${w.organizationName})` : w.organizationName,
                }))}
              />
            ) : (
              <span className="text-sm text-slate-300" data-testid="workspace-name">
                {workspaces[0]?.customerName ?? workspaces[0]?.organizationName}
              </span>
            )}
            <ThemeToggle />
            <Link href="/account" className="rounded-md px-2 py-1 text-sm text-slate-300 hover:bg-slate-800 hover:text-white">
              {found?.user.name ?? 'Account'}
            </Link>
            <form action={signOutAction}>
              <button className="rounded-md px-2 py-1 text-sm text-slate-300 hover:bg-slate-800 hover:text-white">Sign out</button>
            </form>
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-6">
        {children}
      </main>
    </div>
  );
}
