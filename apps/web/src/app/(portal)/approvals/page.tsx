import { requireActor } from '@/lib/session';
import { ApprovalsView } from '@/components/approvals/approvals-list';

export default async function ApprovalsPage() {
  await requireActor();
  return <ApprovalsView />;
}
