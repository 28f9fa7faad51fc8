// The evidence report of a test failover as a PDF, rendered on the server.
//
// Why pdfkit: it is maintained, pure JavaScript (no headless browser or native binary on the
// server), writes the document as a stream, and has the 14 standard PDF fonts built in, so nothing
// is downloaded or installed at run time. The standard fonts cover Windows-1252 (Western European
// letters, dashes, quotes, the euro sign); other characters are spelt without their accents where
// Unicode allows, else shown as "?" (pdfText).
import PDFDocument from 'pdfkit';
import type { TestReport } from '@tandem/engine';
import {
  cleanupText,
  clip,
  describeCopy,
  describeStarter,
  formatDuration,
  formatLag,
  formatTime,
  settingsRows,
} from './format.ts';

export const font = { regular: 'Helvetica', bold: 'Helvetica-Bold', italic: 'Helvetica-Oblique', mono: 'Courier' } as const;
export const color = {
  text: '#0f172a',
  muted: '#475569',
  rule: '#cbd5e1',
  passed: '#15803d',
  failed: '#b91c1c',
  band: '#f1f5f9',
} as const;
export const margin = 50;
/** Detail of one probe and errors of one step, in the PDF (the portal shows detail in full). */
const maxDetailChars = 4000;
const maxErrorChars = 1500;

// Windows-1252 characters above Latin-1's 0x7F..0x9F gap, which the standard fonts can draw.
const cp1252Extras = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018, 0x2019, 0x201c,
  0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178,
]);
const drawable = (cp: number) => (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) || cp1252Extras.has(cp) || cp === 0x0a;
const lookalikes: Record<string, string> = {
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
  '→': '->',
  '←': '<-',
  '✓': 'v',
  '✗': 'x',
  '≤': '<=',
  '≥': '>=',
  '−': '-',
};

/**
 * Text the standard fonts can draw: other characters lose their accents (NFKD) or become a
 * look-alike, else "?"; tabs become spaces and other control characters go.
 */
export function pdfText(input: string): string {
  let out = '';
  for (const ch of input.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').normalize('NFC')) {
    const cp = ch.codePointAt(0)!;
    if (drawable(cp)) out += ch;
    else if (lookalikes[ch]) out += lookalikes[ch];
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    else {
      const base = [...ch.normalize('NFKD')].filter((c) => drawable(c.codePointAt(0)!)).join('');
      out += base || '?';
    }
  }
  return out;
}

export type Doc = PDFKit.PDFDocument;
type Align = 'left' | 'right' | 'center';

/** Renders the report; resolves with the whole PDF. */
export function renderTestReportPdf(report: TestReport): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin,
    bufferPages: true,
    info: {
      Title: pdfText(`Test failover report: ${report.pair.name}`),
      Subject: pdfText(`Test failover of ${report.pair.name} for ${report.customer.name}`),
      Author: 'Tandem',
      CreationDate: new Date(report.finishedAt),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  try {
    writeReport(doc, report);
    footers(doc, `Tandem test failover report · ${clip(report.pair.name, 60)} · ${formatTime(report.startedAt)}`);
    doc.end();
  } catch (err) {
    doc.destroy();
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return done;
}

const width = (doc: Doc) => doc.page.width - doc.page.margins.left - doc.page.margins.right;
const bottom = (doc: Doc) => doc.page.height - doc.page.margins.bottom;

/** Starts a new page unless `height` points still fit on this one. */
function ensureSpace(doc: Doc, height: number) {
  if (doc.y + height > bottom(doc)) doc.addPage();
}

export function heading(doc: Doc, text: string) {
  ensureSpace(doc, 60);
  doc.moveDown(0.8);
  doc
    .font(font.bold)
    .fontSize(13)
    .fillColor(color.text)
    .text(pdfText(text), margin, doc.y, { width: width(doc) });
  const y = doc.y + 2;
  doc
    .moveTo(margin, y)
    .lineTo(margin + width(doc), y)
    .lineWidth(0.5)
    .strokeColor(color.rule)
    .stroke();
  doc.y = y + 6;
}

/** Label and value side by side; the value wraps in its column. */
export function field(
  doc: Doc,
  label: string,
  value: string,
  opts: { labelWidth?: number; valueFont?: string; valueColor?: string } = {},
) {
  const labelWidth = opts.labelWidth ?? 130;
  const valueWidth = width(doc) - labelWidth;
  const text = pdfText(value);
  doc.font(opts.valueFont ?? font.regular).fontSize(10);
  const h = Math.max(doc.heightOfString(text, { width: valueWidth }), 12);
  ensureSpace(doc, Math.min(h, 200));
  const y = doc.y;
  const page = doc.page;
  doc
    .font(font.bold)
    .fontSize(10)
    .fillColor(color.muted)
    .text(pdfText(label), margin, y, { width: labelWidth - 8 });
  doc
    .font(opts.valueFont ?? font.regular)
    .fontSize(10)
    .fillColor(opts.valueColor ?? color.text)
    .text(text, margin + labelWidth, y, { width: valueWidth });
  // A long value may have run onto the next page: then the row ends where the value ended.
  doc.y = (doc.page === page ? Math.max(doc.y, y + 12) : doc.y) + 3;
}

function writeReport(doc: Doc, r: TestReport) {
  doc.font(font.bold).fontSize(20).fillColor(color.text).text('Test failover report', margin, margin);
  doc
    .font(font.regular)
    .fontSize(12)
    .fillColor(color.muted)
    .text(pdfText(`${r.pair.name} · ${r.customer.name}`));
  doc.moveDown(0.8);
  resultBanner(doc, r);

  heading(doc, 'The test');
  field(doc, 'Customer', r.customer.name);
  field(doc, 'Protection pair', `${r.pair.name} (${r.pair.application}, ${r.pair.method})`);
  field(doc, 'Source', r.pair.source);
  field(doc, 'Target', r.pair.target);
  field(doc, 'Started by', describeStarter(r.startedBy));
  field(doc, 'Started', formatTime(r.startedAt));
  field(doc, 'Finished', formatTime(r.finishedAt));
  field(doc, 'Duration', formatDuration(r.durationMs));
  field(doc, 'Test copy', describeCopy(r.copy));
  field(doc, 'Copy removed', cleanupText(r.cleanedUp), { valueColor: r.cleanedUp ? color.text : color.failed });
  field(doc, 'Operation', r.operationId, { valueFont: font.mono });

  heading(doc, 'Replication lag');
  doc
    .font(font.regular)
    .fontSize(9)
    .fillColor(color.muted)
    .text('How far the replica was behind the source around the test; replication kept running throughout.', {
      width: width(doc),
    });
  doc.moveDown(0.4);
  field(doc, 'Before the test', formatLag(r.lag.before));
  field(doc, 'During the test', formatLag(r.lag.during));
  field(doc, 'After the test', formatLag(r.lag.after));

  heading(doc, `Probes (${r.probes.filter((p) => p.passed).length} of ${r.probes.length} passed)`);
  if (r.probes.length === 0) note(doc, 'No probe ran.');
  else probeTable(doc, r.probes);

  heading(doc, 'Timeline');
  if (r.timeline.length === 0) note(doc, 'No step ran.');
  else timelineTable(doc, r.timeline);

  heading(doc, 'Pair settings at the time of the test');
  const rows = settingsRows(r.settings);
  if (rows.length === 0) note(doc, 'No settings were recorded.');
  for (const row of rows)
    field(doc, row.key, row.value, { labelWidth: 190, valueFont: row.value.includes('\n') ? font.mono : font.regular });
}

export function note(doc: Doc, text: string) {
  doc
    .font(font.italic)
    .fontSize(10)
    .fillColor(color.muted)
    .text(pdfText(text), margin, doc.y, { width: width(doc) });
}

function resultBanner(doc: Doc, r: TestReport) {
  const passed = r.result === 'passed';
  const tone = passed ? color.passed : color.failed;
  const error = r.error ? pdfText(clip(r.error, maxErrorChars)) : null;
  doc.font(font.regular).fontSize(10);
  const errorHeight = error ? doc.heightOfString(error, { width: width(doc) - 24 }) + 6 : 0;
  const height = 44 + errorHeight;
  const top = doc.y;
  doc.rect(margin, top, width(doc), height).fillColor(tone).fillOpacity(0.08).fill().fillOpacity(1);
  doc.rect(margin, top, 4, height).fillColor(tone).fill();
  doc
    .font(font.bold)
    .fontSize(22)
    .fillColor(tone)
    .text(passed ? 'PASSED' : 'FAILED', margin + 14, top + 10, { width: 140 });
  const sub = passed ? 'Every probe passed and the test copy was removed.' : 'The test did not prove a failover would work.';
  doc
    .font(font.regular)
    .fontSize(10)
    .fillColor(color.text)
    .text(sub, margin + 150, top + 17, { width: width(doc) - 160 });
  if (error)
    doc
      .font(font.regular)
      .fontSize(10)
      .fillColor(color.failed)
      .text(error, margin + 14, top + 42, { width: width(doc) - 24 });
  doc.y = top + height + 4;
  doc.x = margin;
}

interface Column {
  title: string;
  width: number;
  align?: Align;
}

/**
 * One table row: cells wrap in their columns; a row that does not fit on the page starts a new
 * one (with the header again). Returns nothing; doc.y ends below the row.
 */
export function tableRow(doc: Doc, columns: Column[], cells: { text: string; font?: string; color?: string }[], header: () => void) {
  doc.fontSize(9);
  const heights = cells.map((c, i) => doc.font(c.font ?? font.regular).heightOfString(c.text, { width: columns[i]!.width - 6 }));
  const height = Math.max(...heights, 11) + 6;
  if (doc.y + height > bottom(doc)) {
    doc.addPage();
    header();
  }
  const top = doc.y;
  let x = margin;
  cells.forEach((c, i) => {
    const col = columns[i]!;
    doc
      .font(c.font ?? font.regular)
      .fontSize(9)
      .fillColor(c.color ?? color.text)
      .text(c.text, x + 3, top + 3, { width: col.width - 6, align: col.align ?? 'left' });
    x += col.width;
  });
  doc.y = top + height;
  doc
    .moveTo(margin, doc.y)
    .lineTo(margin + width(doc), doc.y)
    .lineWidth(0.3)
    .strokeColor(color.rule)
    .stroke();
}

export function tableHeader(doc: Doc, columns: Column[]) {
  const top = doc.y;
  doc.rect(margin, top, width(doc), 16).fillColor(color.band).fill();
  let x = margin;
  for (const col of columns) {
    doc
      .font(font.bold)
      .fontSize(9)
      .fillColor(color.muted)
      .text(col.title, x + 3, top + 4, { width: col.width - 6, align: col.align ?? 'left' });
    x += col.width;
  }
  doc.y = top + 16;
}

/** Fits column widths (fractions) to the page. */
export const columnsOf = (doc: Doc, spec: [string, number, Align?][]): Column[] =>
  spec.map(([title, f, align]) => ({ title, width: width(doc) * f, align }));

function probeTable(doc: Doc, probes: TestReport['probes']) {
  const columns = columnsOf(doc, [
    ['#', 0.05],
    ['Probe', 0.3],
    ['Result', 0.1],
    ['Summary', 0.43],
    ['Took', 0.12, 'right'],
  ]);
  const header = () => tableHeader(doc, columns);
  ensureSpace(doc, 60);
  header();
  for (const p of [...probes].sort((a, b) => a.index - b.index)) {
    tableRow(
      doc,
      columns,
      [
        { text: String(p.index + 1) },
        { text: pdfText(clip(p.description, 400)), font: font.bold },
        { text: p.passed ? 'Passed' : 'Failed', font: font.bold, color: p.passed ? color.passed : color.failed },
        { text: pdfText(p.summary) },
        { text: formatDuration(p.durationMs), color: color.muted },
      ],
      header,
    );
    if (p.detail.trim()) detailBlock(doc, p.detail);
  }
}

/** A probe's detail under its row, in a fixed-width font; it may run over pages. */
function detailBlock(doc: Doc, detail: string) {
  const text = pdfText(clip(detail.trimEnd(), maxDetailChars));
  ensureSpace(doc, 30);
  doc.moveDown(0.2);
  doc
    .font(font.mono)
    .fontSize(7.5)
    .fillColor(color.muted)
    .text(text, margin + 18, doc.y, { width: width(doc) - 24, lineGap: 1 });
  doc.moveDown(0.4);
  doc.x = margin;
}

function timelineTable(doc: Doc, steps: TestReport['timeline']) {
  const columns = columnsOf(doc, [
    ['#', 0.05],
    ['Step', 0.45],
    ['Status', 0.13],
    ['Started (UTC)', 0.22],
    ['Took', 0.15, 'right'],
  ]);
  const header = () => tableHeader(doc, columns);
  ensureSpace(doc, 60);
  header();
  for (const s of [...steps].sort((a, b) => a.position - b.position)) {
    const bad = s.status === 'failed';
    tableRow(
      doc,
      columns,
      [
        { text: String(s.position + 1) },
        { text: pdfText(clip(s.description, 400)) },
        {
          text: pdfText(s.status),
          font: font.bold,
          color: bad ? color.failed : s.status === 'succeeded' ? color.passed : color.muted,
        },
        { text: s.startedAt ? s.startedAt.slice(11, 19) : '—', color: color.muted },
        { text: formatDuration(s.durationMs), color: color.muted },
      ],
      header,
    );
    if (s.error) {
      ensureSpace(doc, 24);
      doc.moveDown(0.2);
      doc
        .font(font.regular)
        .fontSize(8.5)
        .fillColor(color.failed)
        .text(pdfText(`Error: ${clip(s.error, maxErrorChars)}`), margin + 18, doc.y, { width: width(doc) - 24 });
      doc.moveDown(0.4);
      doc.x = margin;
    }
  }
}

/** "Page n of m" and what the report is about (`label`) at the foot of every page. */
export function footers(doc: Doc, label: string) {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing inside the bottom margin must not start another page.
    const keep = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - margin + 16;
    doc.font(font.regular).fontSize(8).fillColor(color.muted);
    doc.text(pdfText(label), margin, y, {
      width: width(doc) * 0.75,
      lineBreak: false,
    });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, margin + width(doc) * 0.75, y, {
      width: width(doc) * 0.25,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins.bottom = keep;
  }
}
