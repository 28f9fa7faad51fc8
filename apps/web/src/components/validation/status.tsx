// The six display statuses of the catalogue (§1.5), each with its icon, colour and a label that
// screen readers read (the icon alone never carries the meaning).
import type { DisplayStatus } from '@tandem/engine';

export const statusInfo: Record<DisplayStatus, { label: string; icon: string; className: string; help: string }> = {
  good: {
    label: 'Good',
    icon: '✓',
    className: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-200',
    help: 'The check ran and found nothing.',
  },
  unknown: {
    label: 'Unknown',
    icon: '?',
    className: 'bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100',
    help: 'The facts it needs could not be collected.',
  },
  'error-fixable': {
    label: 'Error, fixable',
    icon: '✕',
    className: 'bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-200',
    help: 'Blocks protection; Tandem can fix it.',
  },
  'error-manual': {
    label: 'Error, manual',
    icon: '✕',
    className: 'bg-red-200 text-red-900 dark:bg-red-950 dark:text-red-100',
    help: 'Blocks protection; a person must fix it.',
  },
  'warning-fixable': {
    label: 'Warning, fixable',
    icon: '!',
    className: 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100',
    help: 'Should be addressed; Tandem can fix it.',
  },
  'warning-manual': {
    label: 'Warning, manual',
    icon: '!',
    className: 'bg-amber-200 text-amber-950 dark:bg-amber-950 dark:text-amber-100',
    help: 'Should be addressed; a person must fix it.',
  },
};

export function ValidationStatus({ status }: { status: DisplayStatus }) {
  const info = statusInfo[status];
  return (
    <span
      data-validation-status={status}
      title={info.help}
      className={`inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ${info.className}`}
    >
      <span aria-hidden="true" className="font-bold">
        {info.icon}
      </span>
      {info.label}
    </span>
  );
}

/** "target", "source" or nothing for pair-level checks. */
export const sideLabel = (side: string) => (side === 'source' || side === 'target' ? side : '');
