import { notFound } from 'next/navigation';
import { idSchema, orgRoleAtLeast } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { PairView } from './pair-view';

export default async function PairPage({ params }: { params: Promise<{ customerId: string; pairId: string }> }) {
  const { customerId, pairId } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success || !idSchema.safeParse(pairId).success) notFound();
  if (actor.kind === 'customer' && actor.customerId !== customerId) notFound();
  const canOperate = actor.kind === 'staff' && orgRoleAtLeast(actor.role, 'operator');
  const canConfirmPrivileged = actor.kind === 'staff' && orgRoleAtLeast(actor.role, 'admin');
  // A customer's approvers may request a test failover of their own pairs (the API checks it again).
  const canRequestTest = actor.kind === 'customer' && actor.role === 'approver';
  return (
    <PairView pairId={pairId} canOperate={canOperate} canConfirmPrivileged={canConfirmPrivileged} isStaff={actor.kind === 'staff'} canRequestTest={canRequestTest} />
  );
}
