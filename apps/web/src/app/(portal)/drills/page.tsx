import { orgRoleAtLeast } from '@tandem/engine';
import { requireStaff } from '@/lib/session';
import { DrillsView } from './drills-view';

export default async function DrillsPage() {
  const actor = await requireStaff();
  return <DrillsView canOperate={orgRoleAtLeast(actor.role, 'operator')} />;
}
