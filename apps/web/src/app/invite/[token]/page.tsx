import { auth } from '@/auth';
import { AcceptInvitation } from './accept-invitation';

export const dynamic = 'force-dynamic';

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  // Someone who already has an account accepts while signed in as it (see invitation.accept).
  const session = await auth();
  const signedInAs = session?.user?.id ? (session.user.email ?? null) : null;
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-md">
        <AcceptInvitation token={token} signedIn={Boolean(session?.user?.id)} signedInAs={signedInAs} />
      </div>
    </main>
  );
}
