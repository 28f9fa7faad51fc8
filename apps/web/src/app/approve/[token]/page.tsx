import { redirect } from 'next/navigation';
import { auth } from '@/auth';
import { OpenApprovalLink } from '@/components/approvals/open-link';

export const dynamic = 'force-dynamic';

/**
 * The link from an approval e-mail. Sign-in comes first (and brings the person back here); the
 * link then only says which request to open, for the person it was sent to.
 */
export default async function ApprovePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const session = await auth();
  if (!session?.user?.id) redirect(`/sign-in?next=${encodeURIComponent(`/approve/${token}`)}`);
  return <OpenApprovalLink token={token} />;
}
