import { requireActor } from '@/lib/session';
import { AuditView } from './audit-view';

export default async function AuditPage() {
  const actor = await requireActor();
  return <AuditView lockedCustomerId={actor.kind === 'customer' ? actor.customerId : null} />;
}
