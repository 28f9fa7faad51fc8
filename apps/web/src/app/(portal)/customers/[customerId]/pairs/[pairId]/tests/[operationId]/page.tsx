import { notFound } from 'next/navigation';
import { idSchema } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { TestReportView } from './report-view';

/** A test failover's evidence report; MSP staff and users of the pair's customer (pair.testReport decides). */
export default async function TestReportPage({
  params,
}: {
  params: Promise<{ customerId: string; pairId: string; operationId: string }>;
}) {
  const { customerId, pairId, operationId } = await params;
  const actor = await requireActor();
  if (![customerId, pairId, operationId].every((id) => idSchema.safeParse(id).success)) notFound();
  if (actor.kind === 'customer' && actor.customerId !== customerId) notFound();
  return <TestReportView customerId={customerId} pairId={pairId} operationId={operationId} />;
}
