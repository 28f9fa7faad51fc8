import { signOutAction } from '@/lib/actions';

export default function NoAccess() {
  return (
    <main className="mx-auto max-w-md p-8">
      <h1 className="text-xl font-semibold">No access yet</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-400">
        Your account does not belong to any organization or customer. Ask your MSP for an invitation link.
      </p>
      <form action={signOutAction} className="mt-6">
        <button className="rounded-md bg-slate-800 px-4 py-2 text-white dark:bg-slate-200 dark:text-slate-900">Sign out</button>
      </form>
    </main>
  );
}
