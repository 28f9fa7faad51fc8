// The one vocabulary for a pair's state, used by every badge in the portal and every message.

export const pairStatuses = [
  'unprotected',
  'validated',
  'mirroring',
  'protected',
  'failover_pending',
  'failing_over',
  'failed_over',
  'restoring',
  'failing_back',
] as const;
export type PairStatus = (typeof pairStatuses)[number];

export const monitoringStatuses = ['off', 'watching', 'source_lost'] as const;
export type MonitoringStatus = (typeof monitoringStatuses)[number];

export type Tone = 'neutral' | 'info' | 'good' | 'warning' | 'danger';

export const pairStatusInfo: Record<PairStatus, { label: string; tone: Tone; description: string }> = {
  unprotected: { label: 'Unprotected', tone: 'neutral', description: 'Configured but not replicating.' },
  validated: { label: 'Validated', tone: 'neutral', description: 'Checks passed; protection is not enabled yet.' },
  mirroring: { label: 'Mirroring', tone: 'info', description: 'The initial copy to the target is in progress.' },
  protected: { label: 'Protected', tone: 'good', description: 'The target holds a current copy and changes replicate continuously.' },
  failover_pending: { label: 'Failover pending', tone: 'danger', description: 'The source is lost; a failover decision is waiting.' },
  failing_over: { label: 'Failing over', tone: 'warning', description: 'The target is taking over.' },
  failed_over: { label: 'Failed over', tone: 'warning', description: 'The target is serving in place of the source.' },
  restoring: { label: 'Restoring', tone: 'info', description: 'Data flows back from the target to the source.' },
  failing_back: { label: 'Failing back', tone: 'warning', description: 'The source is taking its role back.' },
};

export const monitoringStatusInfo: Record<MonitoringStatus, { label: string; tone: Tone; description: string }> = {
  off: { label: 'Not monitored', tone: 'neutral', description: 'Nobody is watching the source for failure.' },
  watching: { label: 'Monitoring', tone: 'good', description: 'The target and the control plane are watching the source.' },
  source_lost: { label: 'Source lost', tone: 'danger', description: 'The source stopped answering.' },
};
