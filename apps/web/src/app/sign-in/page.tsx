import { redirect } from 'next/navigation';
import { auth } from '@/auth';
import { safeNextPath } from '@/lib/next-path';
import { SignInForm } from './sign-in-form';

export const dynamic = 'force-dynamic';

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNextPath((await searchParams).next);
  const session = await auth();
  if (session?.user?.id) redirect(next ?? '/');
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm">
        <h1 className="mb-1 text-2xl font-semibold tracking-tight">Sign in to Tandem</h1>
        <p className="mb-6 text-sm text-slate-600 dark:text-slate-400">Keep your customers’ servers running.</p>
        <SignInForm next={next} />
      </div>
    </main>
  );
}
