// The monthly report of one customer as a PDF (pdfkit, like the test failover report: see pdf.ts).
import PDFDocument from 'pdfkit';
import type { MonthlyReport } from '@tandem/engine';
import { clip, formatTime } from './format.ts';
import {
  findingsText,
  formatPercent,
  formatSeconds,
  lagText,
  monthLabel,
  runKindLabel,
  runOutcomeLabel,
} from './monthly-format.ts';
import { color, columnsOf, field, font, footers, heading, margin, note, pdfText, tableHeader, tableRow, type Doc } from './pdf.ts';

/** Renders the report; resolves with the whole PDF. */
export function renderMonthlyReportPdf(report: MonthlyReport): Promise<Buffer> {
  const title = `Monthly report ${monthLabel(report.month)}: ${report.customer.name}`;
  const doc = new PDFDocument({
    size: 'A4',
    margin,
    bufferPages: true,
    info: { Title: pdfText(title), Subject: pdfText(title), Author: 'Tandem', CreationDate: new Date(report.periodEnd) },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  try {
    writeReport(doc, report);
    footers(doc, `Tandem monthly report · ${clip(report.customer.name, 60)} · ${monthLabel(report.month)}`);
    doc.end();
  } catch (err) {
    doc.destroy();
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return done;
}

const cell = (text: string, extra: { font?: string; color?: string } = {}) => ({ text: pdfText(text), ...extra });

function writeReport(doc: Doc, r: MonthlyReport) {
  const t = r.totals;
  doc.font(font.bold).fontSize(20).fillColor(color.text).text(pdfText(`Monthly report: ${monthLabel(r.month)}`), margin, margin);
  doc
    .font(font.regular)
    .fontSize(12)
    .fillColor(color.muted)
    .text(pdfText(`${r.customer.name}${r.organizationName ? ` · by ${r.organizationName}` : ''}`));
  doc.moveDown(0.5);
  if (r.partial) note(doc, `The month is not over: figures run up to ${formatTime(r.periodEnd)}.`);

  heading(doc, 'Summary');
  field(doc, 'Period', `${formatTime(r.periodStart)} to ${formatTime(r.periodEnd)}`);
  field(doc, 'Protection pairs', String(t.pairs));
  field(doc, 'Time protected', `${formatPercent(t.protectedPercent)} (mean of the pairs)`);
  field(doc, 'RPO', formatSeconds(r.customer.rpoSeconds));
  field(doc, 'Lag within the RPO', t.withinRpoPercent === null ? 'no samples' : `${formatPercent(t.withinRpoPercent)} of samples`);
  field(doc, 'Worst p95 lag', formatSeconds(t.worstP95), {
    valueColor: t.worstP95 !== null && t.worstP95 > r.customer.rpoSeconds ? color.failed : color.text,
  });
  field(doc, 'Failovers', `${t.failovers.total} (${t.failovers.succeeded} succeeded, ${t.failovers.failed} failed)`);
  field(doc, 'Test failovers', `${t.tests.total} (${t.tests.passed} passed, ${t.tests.failed} failed)`);
  field(doc, 'Open findings', findingsText(t.findings), { valueColor: t.findings.error ? color.failed : color.text });

  heading(doc, 'Pairs');
  if (r.pairs.length === 0) note(doc, 'This customer had no protection pairs in the month.');
  else {
    const columns = columnsOf(doc, [
      ['Pair', 0.24],
      ['Protected', 0.12, 'right'],
      ['Lag', 0.28],
      ['Within RPO', 0.11, 'right'],
      ['Longest above', 0.12, 'right'],
      ['Findings', 0.13],
    ]);
    const header = () => tableHeader(doc, columns);
    header();
    for (const p of r.pairs) {
      tableRow(
        doc,
        columns,
        [
          cell(`${clip(p.name, 80)}\n${p.application}`, { font: font.bold }),
          cell(formatPercent(p.protectedPercent)),
          cell(lagText(p.lag)),
          cell(formatPercent(p.lag.withinRpoPercent)),
          cell(p.lag.samples ? formatSeconds(p.lag.longestAboveRpoSeconds) : '—'),
          cell(findingsText(p.findings), { color: p.findings.error ? color.failed : color.text }),
        ],
        header,
      );
    }
  }

  heading(doc, 'Failovers and tests');
  if (r.runs.length === 0) note(doc, 'No failover, failback or test failover ran this month.');
  else {
    const columns = columnsOf(doc, [
      ['Started', 0.2],
      ['Pair', 0.22],
      ['What', 0.14],
      ['Outcome', 0.12],
      ['Took', 0.1, 'right'],
      ['Error', 0.22],
    ]);
    const header = () => tableHeader(doc, columns);
    header();
    for (const run of r.runs) {
      const bad = run.outcome === 'failed';
      tableRow(
        doc,
        columns,
        [
          cell(formatTime(run.startedAt)),
          cell(clip(run.pairName, 80)),
          cell(runKindLabel[run.kind]),
          cell(runOutcomeLabel(run), { color: bad ? color.failed : run.outcome === 'succeeded' ? color.passed : color.text }),
          cell(formatSeconds(run.durationSeconds)),
          cell(clip(run.error ?? '', 300)),
        ],
        header,
      );
    }
  }
  doc.moveDown(1);
  note(
    doc,
    'Time protected: while replication ran from source to target. Lag: replication samples of the month (one-minute roll-ups keep the worst lag of each minute); samples are kept for 35 days.',
  );
}
