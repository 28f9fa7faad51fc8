import { orgRoleAtLeast } from '@tandem/engine';
import { requireStaff } from '@/lib/session';
import { AlertsView } from './alerts-view';

export default async function AlertsPage() {
  const actor = await requireStaff();
  return <AlertsView isAdmin={orgRoleAtLeast(actor.role, 'admin')} isOperator={orgRoleAtLeast(actor.role, 'operator')} />;
}
