'use client';

// Alerting for MSP staff: the mail server, channels, the organization's default rules, open
// alerts and the delivery log. Viewers see the open alerts only.
import { ChannelsCard } from '@/components/alerts/channels-card';
import { DeliveryLog } from '@/components/alerts/delivery-log';
import { OpenAlertsCard } from '@/components/alerts/open-alerts';
import { RulesCard } from '@/components/alerts/rules-card';
import { SmtpCard } from '@/components/alerts/smtp-card';
import { PageHeader } from '@/components/ui';

export function AlertsView({ isAdmin, isOperator }: { isAdmin: boolean; isOperator: boolean }) {
  return (
    <>
      <PageHeader
        title="Alerts"
        description="Who hears about trouble, and how: e-mail through your mail server, and signed webhooks to Slack, Teams, PagerDuty or your own systems. Per-customer rules and maintenance windows are on each customer’s page."
      />
      <OpenAlertsCard />
      {isAdmin && <SmtpCard />}
      {isOperator && <ChannelsCard canEdit={isAdmin} />}
      {isOperator && <RulesCard customerId={null} canEdit={isOperator} />}
      {isOperator && <DeliveryLog canRedeliver={isOperator} />}
    </>
  );
}
