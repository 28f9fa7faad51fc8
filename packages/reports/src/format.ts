// Pure helpers shared by the PDF renderer and the portal's report page (which imports this file
// alone, through `@tandem/reports/format`, so no PDF code reaches the browser bundle).
import type { TestReport } from '@tandem/engine';

/** Names that could hold secrets or key material; such a setting is never shown, whatever it holds. */
const secretName = /secret|password|passphrase|passwd|token|private|credential(?!Id$)|tsig|cipher|Enc$|^key$|Key$/i;

export const isSecretName = (name: string) => secretName.test(name);

/** At most this much of one setting's value (a hook script can be 64 KiB). */
const maxValueChars = 2000;

export interface SettingRow {
  /** Dotted path ("connection.port", "testing.probes[1].query"). */
  key: string;
  value: string;
}

/**
 * The pair's settings as readable rows, nested objects flattened to dotted keys, anything named
 * like a secret left out (settings hold none by contract; this is the second belt).
 */
/** The stored columns' names (settingsToColumns) as the settings form calls those sections. */
const sectionNames: Record<string, string> = {
  connectionSettings: 'connection',
  failoverSettings: 'failover',
  dnsSettings: 'dns',
  testSettings: 'testing',
};

export function settingsRows(settings: Record<string, unknown>): SettingRow[] {
  const rows: SettingRow[] = [];
  const walk = (value: unknown, key: string) => {
    if (Array.isArray(value)) {
      if (value.length === 0) rows.push({ key, value: 'none' });
      else if (value.every((v) => v === null || typeof v !== 'object')) rows.push({ key, value: value.map(scalar).join(', ') });
      else value.forEach((v, i) => walk(v, `${key}[${i + 1}]`));
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => !isSecretName(k));
      if (entries.length === 0) rows.push({ key, value: 'none' });
      for (const [k, v] of entries) walk(v, key ? `${key}.${k}` : k);
    } else {
      rows.push({ key, value: clip(scalar(value), maxValueChars) });
    }
  };
  for (const [k, v] of Object.entries(settings)) if (!isSecretName(k)) walk(v, sectionNames[k] ?? k);
  return rows;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'not set';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v === '' ? '(empty)' : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}

export const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Lag in seconds as a person reads it; null: it could not be measured then. */
export function formatLag(seconds: number | null): string {
  if (seconds === null) return 'not measured';
  return seconds < 1 ? 'under 1 s' : formatDuration(seconds * 1000);
}

/** A timestamp in UTC, the same for everyone who reads the report. */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function describeCopy(copy: TestReport['copy']): string {
  if (!copy) return 'No copy was made';
  const what = copy.kind === 'files' ? 'Files' : 'PostgreSQL';
  const parts = [`${what}, ${copy.method}`];
  if (copy.bytes !== null) parts.push(formatBytes(copy.bytes));
  if (copy.files !== null) parts.push(`${copy.files.toLocaleString('en-US')} file${copy.files === 1 ? '' : 's'}`);
  if (copy.durationMs !== null) parts.push(`made in ${formatDuration(copy.durationMs)}`);
  return parts.join(', ');
}

export function describeStarter(s: TestReport['startedBy']): string {
  if (s.kind === 'drill') return `Scheduled drill (${s.name})`;
  return s.email ? `${s.name} <${s.email}>` : s.name;
}

export const cleanupText = (cleanedUp: boolean) =>
  cleanedUp
    ? 'Yes: the test copy was removed from the target'
    : 'No: the teardown did not remove every test copy; the target still holds one';

/** A sane download name: letters, digits, dots and dashes only. */
export function reportFileName(report: Pick<TestReport, 'pair' | 'startedAt'>): string {
  const name = report.pair.name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  const day = report.startedAt.slice(0, 10);
  return `test-failover-${name || 'pair'}-${day}.pdf`;
}

// The monthly report's wording lives beside it (also pure).
export * from './monthly-format.ts';
