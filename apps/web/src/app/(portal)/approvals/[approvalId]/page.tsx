import { notFound } from 'next/navigation';
import { idSchema } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { ApprovalView } from '@/components/approvals/approval-view';

export default async function ApprovalPage({ params }: { params: Promise<{ approvalId: string }> }) {
  const { approvalId } = await params;
  await requireActor();
  if (!idSchema.safeParse(approvalId).success) notFound();
  // Access is the API's: another tenant's or customer's request is "not found" there.
  return <ApprovalView approvalId={approvalId} />;
}
