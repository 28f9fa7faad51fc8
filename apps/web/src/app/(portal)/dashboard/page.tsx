import { orgRoleAtLeast } from '@tandem/engine';
import { ValidationRollupCard } from '@/components/validation/rollup-card';
import { ValidationSettingsCard } from '@/components/validation/settings-card';
import { requireStaff } from '@/lib/session';
import { DashboardView } from './dashboard-view';

export default async function DashboardPage() {
  const actor = await requireStaff();
  const canEditSettings = actor.kind === 'staff' && orgRoleAtLeast(actor.role, 'admin');
  return (
    <>
      <DashboardView />
      <div className="mt-4">
        <ValidationRollupCard />
        <ValidationSettingsCard canEdit={canEditSettings} />
      </div>
    </>
  );
}
