import { notFound } from 'next/navigation';
import { idSchema } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { CustomerView } from './customer-view';

export default async function CustomerPage({ params }: { params: Promise<{ customerId: string }> }) {
  const { customerId } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success) notFound();
  // A customer user sees only their own customer; the API enforces it again.
  if (actor.kind === 'customer' && actor.customerId !== customerId) notFound();
  return <CustomerView customerId={customerId} staffRole={actor.kind === 'staff' ? actor.role : null} customerRole={actor.kind === 'customer' ? actor.role : null} />;
}
