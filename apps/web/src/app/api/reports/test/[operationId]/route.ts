import { createContext } from '@/server/context';
import { testReportPdfResponse } from '@/server/services/test-report-pdf';

// pdfkit needs Node (streams, Buffer), and every answer depends on who asks.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** A test failover's evidence report as a PDF download (checks in testReportPdfResponse). */
export async function GET(req: Request, { params }: { params: Promise<{ operationId: string }> }) {
  const { operationId } = await params;
  return testReportPdfResponse(await createContext(req), operationId);
}
