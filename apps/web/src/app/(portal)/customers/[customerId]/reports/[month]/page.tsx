import { notFound } from 'next/navigation';
import { idSchema, reportMonthSchema } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { MonthlyReportView } from './report-view';

/** One monthly report, printable; MSP staff and the customer's own users (report.monthly decides). */
export default async function MonthlyReportPage({ params }: { params: Promise<{ customerId: string; month: string }> }) {
  const { customerId, month } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success || !reportMonthSchema.safeParse(month).success) notFound();
  if (actor.kind === 'customer' && actor.customerId !== customerId) notFound();
  return <MonthlyReportView customerId={customerId} month={month} />;
}
