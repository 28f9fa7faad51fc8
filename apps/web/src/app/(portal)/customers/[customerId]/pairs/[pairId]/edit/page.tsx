import { notFound } from 'next/navigation';
import { idSchema, orgRoleAtLeast } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { EditView } from './edit-view';

/** Edit a pair's configuration: MSP operators and above only; everyone else gets a plain 404. */
export default async function EditPairPage({ params }: { params: Promise<{ customerId: string; pairId: string }> }) {
  const { customerId, pairId } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success || !idSchema.safeParse(pairId).success) notFound();
  const canOperate = actor.kind === 'staff' && orgRoleAtLeast(actor.role, 'operator');
  if (!canOperate) notFound();
  return <EditView customerId={customerId} pairId={pairId} />;
}
