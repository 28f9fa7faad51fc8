import { notFound } from 'next/navigation';
import { idSchema } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { ReportListView } from './list-view';

/** The customer's monthly reports; MSP staff and the customer's own users (report.months decides). */
export default async function MonthlyReportsPage({ params }: { params: Promise<{ customerId: string }> }) {
  const { customerId } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success) notFound();
  if (actor.kind === 'customer' && actor.customerId !== customerId) notFound();
  return <ReportListView customerId={customerId} />;
}
