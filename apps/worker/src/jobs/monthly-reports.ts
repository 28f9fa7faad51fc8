// Monthly reports by e-mail: on the 1st (UTC), for every customer with a protection pair, one
// `report.monthly` event about the month that just ended; the alert dispatcher sends it to the
// channels whose rules include report.monthly. The job runs hourly, so a worker that was down on
// the 1st catches up when it starts; the event's dedupe key makes it once per customer and month.
import { emitEvent, readMonthlyReport, withTenant, type Db } from '@tandem/db';
import { monthBounds, monthOf, monthlyReportSummary, previousMonth } from '@tandem/engine';

export const MONTHLY_REPORTS_EVERY_MS = 3600_000;

export interface MonthlyReportsSent {
  month: string;
  /** Customers due a report (had a pair in the month, not sent yet). */
  customers: number;
  emitted: number;
  /** Left for the next run (an error, logged). */
  failed: number;
}

export const monthlyReportDedupeKey = (customerId: string, month: string) => `report.monthly:${customerId}:${month}`;

export async function announceMonthlyReports(db: Db, now: Date, publicUrl: string): Promise<MonthlyReportsSent> {
  const month = previousMonth(monthOf(now));
  const { end } = monthBounds(month);
  // A SECURITY DEFINER reader: the customers span every tenant, which the app role cannot list.
  // It leaves out those already sent this month's report (same key as below).
  const customers = await db.$queryRaw<{ organizationId: string; customerId: string }[]>`
    SELECT * FROM monthly_report_customers_due((${end.toISOString()}::timestamptz AT TIME ZONE 'UTC'), ${month})`;
  const base = publicUrl.replace(/\/+$/, '');
  let emitted = 0;
  let failed = 0;
  for (const c of customers) {
    const key = monthlyReportDedupeKey(c.customerId, month);
    // One customer's failure (another worker emitting the same key at once) leaves the rest to go.
    const sent = await withTenant({ organizationId: c.organizationId, userId: null, customerId: null }, async (tx) => {
      const report = await readMonthlyReport(tx, c.customerId, month, now);
      // No pair existed yet last month: nothing to report.
      if (!report || report.pairs.length === 0) return false;
      return emitEvent(tx, {
        organizationId: c.organizationId,
        customerId: c.customerId,
        type: 'report.monthly',
        severity: 'info',
        message: `The monthly report of ${report.customer.name} for ${month} is ready.`,
        at: now,
        subject: { kind: 'customer', id: c.customerId, name: report.customer.name },
        customerName: report.customer.name,
        data: { month, url: `${base}/customers/${c.customerId}/reports/${month}`, summary: monthlyReportSummary(report) },
        dedupeKey: key,
      });
    }).catch((err: unknown) => {
      failed++;
      console.error(`[monthly-reports] customer ${c.customerId}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    });
    if (sent) emitted++;
  }
  return { month, customers: customers.length, emitted, failed };
}
