'use client';

// The customer page's alerting section: the customer's rules (staff only; customer users never
// see the MSP's channels), maintenance windows, open alerts and the customer's deliveries.
import { orgRoleAtLeast, type OrgRole } from '@tandem/engine';
import { DeliveryLog } from './delivery-log';
import { OpenAlertsCard } from './open-alerts';
import { RulesCard } from './rules-card';
import { WindowsCard } from './windows-card';

export function CustomerAlertsSection({ customerId, staffRole }: { customerId: string; staffRole: OrgRole | null }) {
  const operator = staffRole !== null && orgRoleAtLeast(staffRole, 'operator');
  return (
    <section aria-label="Alerting">
      <OpenAlertsCard customerId={customerId} />
      {operator && <RulesCard customerId={customerId} canEdit={operator} />}
      <WindowsCard customerId={customerId} canEdit={operator} />
      <DeliveryLog customerId={customerId} canRedeliver={operator} />
    </section>
  );
}
