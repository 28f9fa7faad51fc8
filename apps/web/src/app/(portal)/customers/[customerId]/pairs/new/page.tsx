import { notFound } from 'next/navigation';
import { idSchema, orgRoleAtLeast } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { WizardView } from './wizard-view';

/** New protection: MSP operators and above only; everyone else gets a plain 404. */
export default async function NewPairPage({ params }: { params: Promise<{ customerId: string }> }) {
  const { customerId } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success) notFound();
  const canOperate = actor.kind === 'staff' && orgRoleAtLeast(actor.role, 'operator');
  if (!canOperate) notFound();
  return <WizardView customerId={customerId} />;
}
