// The pair status vocabulary from the engine, rendered the same way everywhere.
import { monitoringStatusInfo, pairStatusInfo, type MonitoringStatus, type PairStatus, type Tone } from '@tandem/engine';
import { Badge } from './ui';

const toneColour: Record<Tone, 'slate' | 'sky' | 'green' | 'amber' | 'red'> = {
  neutral: 'slate',
  info: 'sky',
  good: 'green',
  warning: 'amber',
  danger: 'red',
};

export function PairStatusBadge({ status }: { status: string }) {
  const info = pairStatusInfo[status as PairStatus] ?? { label: status, tone: 'neutral' as const, description: '' };
  return (
    <span title={info.description} data-pair-status={status}>
      <Badge tone={toneColour[info.tone]}>{info.label}</Badge>
    </span>
  );
}

export function MonitoringBadge({ status }: { status: string }) {
  const info = monitoringStatusInfo[status as MonitoringStatus] ?? { label: status, tone: 'neutral' as const, description: '' };
  return (
    <span title={info.description} data-monitoring-status={status}>
      <Badge tone={toneColour[info.tone]}>{info.label}</Badge>
    </span>
  );
}
