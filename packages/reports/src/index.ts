// Reports rendered on the server: the evidence report of a test failover and the monthly report as PDF (see pdf.ts for
// why pdfkit). The portal's HTML page uses the same wording through `@tandem/reports/format`.
export { renderTestReportPdf, pdfText } from './pdf.ts';
export * from './format.ts';
export { renderMonthlyReportPdf } from './monthly-pdf.ts';
