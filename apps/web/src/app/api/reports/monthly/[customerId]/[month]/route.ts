import { createContext } from '@/server/context';
import { monthlyReportPdfResponse } from '@/server/routers/report/pdf';

// pdfkit needs Node (streams, Buffer), and every answer depends on who asks.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** A customer's monthly report as a PDF download (checks in monthlyReportPdfResponse). */
export async function GET(req: Request, { params }: { params: Promise<{ customerId: string; month: string }> }) {
  const { customerId, month } = await params;
  return monthlyReportPdfResponse(await createContext(req), customerId, month);
}
