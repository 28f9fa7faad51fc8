// GET /api/reports/monthly/<customerId>/<month>: a customer's monthly report as a PDF download.
// The same checks as report.monthly: the signed-in user's actor, one tenant transaction (row-level
// security applies); a customer user reaches only their own customer. Another tenant's customer,
// one that does not exist and a malformed id or month all answer 404 alike.
import { readMonthlyReport, withTenant } from '@tandem/db';
import { idSchema, monthOf, reportMonthSchema } from '@tandem/engine';
import { monthlyReportFileName, renderMonthlyReportPdf } from '@tandem/reports';
import { resolveActor } from '../../actor';
import type { Context } from '../../trpc';

const plain = (status: number, message: string) =>
  new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
const notFound = () => plain(404, 'Monthly report not found');

export async function monthlyReportPdfResponse(ctx: Pick<Context, 'userId' | 'workspaceKey'>, customerId: string, month: string): Promise<Response> {
  if (!ctx.userId) return plain(401, 'Sign in first');
  const now = new Date();
  if (!idSchema.safeParse(customerId).success || !reportMonthSchema.safeParse(month).success || month > monthOf(now)) return notFound();
  const actor = await resolveActor(ctx.userId, ctx.workspaceKey);
  // Every customer role reads reports, so for a customer user only the customer itself matters.
  if (!actor || (actor.kind === 'customer' && actor.customerId !== customerId)) return notFound();
  const scope = { organizationId: actor.organizationId, userId: actor.userId, customerId: actor.kind === 'customer' ? actor.customerId : null };
  const report = await withTenant(scope, (db) => readMonthlyReport(db, customerId, month, now));
  if (!report) return notFound();
  // Rendered after the transaction has ended: no connection is held while the PDF is drawn.
  const pdf = await renderMonthlyReportPdf(report);
  return new Response(new Uint8Array(pdf), {
    headers: {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="${monthlyReportFileName(report)}"`,
      'content-length': String(pdf.length),
      'cache-control': 'private, no-store',
    },
  });
}
