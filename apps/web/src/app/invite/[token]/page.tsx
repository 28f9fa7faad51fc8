import { AcceptInvitation } from './accept-invitation';

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-md">
        <AcceptInvitation token={token} />
      </div>
    </main>
  );
}
