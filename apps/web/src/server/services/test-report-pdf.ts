// GET /api/reports/test/<operationId>: a test failover's evidence report as a PDF download. The
// same checks as the tRPC procedures: the signed-in user's actor, one tenant transaction (so
// row-level security applies), the same reader as pair.testReport. Another tenant's operation, one
// that does not exist and one that is no test failover all answer 404 alike.
import { withTenant } from '@tandem/db';
import { AppError, idSchema } from '@tandem/engine';
import { renderTestReportPdf, reportFileName } from '@tandem/reports';
import { resolveActor } from '../actor';
import { readTestReport } from '../routers/pair/test-report';
import type { Context } from '../trpc';

const plain = (status: number, message: string) =>
  new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
const notFound = () => plain(404, 'Test failover report not found');

export async function testReportPdfResponse(
  ctx: Pick<Context, 'userId' | 'workspaceKey'>,
  operationId: string,
): Promise<Response> {
  if (!ctx.userId) return plain(401, 'Sign in first');
  if (!idSchema.safeParse(operationId).success) return notFound();
  const actor = await resolveActor(ctx.userId, ctx.workspaceKey);
  if (!actor) return notFound();
  const scope = {
    organizationId: actor.organizationId,
    userId: actor.userId,
    customerId: actor.kind === 'customer' ? actor.customerId : null,
  };
  let report;
  try {
    report = await withTenant(scope, (db) => readTestReport(db, actor, operationId));
  } catch (err) {
    if (err instanceof AppError && err.code === 'NOT_FOUND') return notFound();
    throw err;
  }
  if (!report) return plain(409, 'The test has not ended yet: its report is ready when it ends');
  // Rendered after the transaction has ended: no connection is held while the PDF is drawn.
  const pdf = await renderTestReportPdf(report);
  return new Response(new Uint8Array(pdf), {
    headers: {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="${reportFileName(report)}"`,
      'content-length': String(pdf.length),
      'cache-control': 'private, no-store',
    },
  });
}
