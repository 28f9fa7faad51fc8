import { notFound } from 'next/navigation';
import { idSchema } from '@tandem/engine';
import { requireStaff } from '@/lib/session';
import { ClustersView } from './clusters-view';

export default async function ClustersPage({ params }: { params: Promise<{ customerId: string }> }) {
  const { customerId } = await params;
  await requireStaff();
  if (!idSchema.safeParse(customerId).success) notFound();
  return <ClustersView customerId={customerId} />;
}
