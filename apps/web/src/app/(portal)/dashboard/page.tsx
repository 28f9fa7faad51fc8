import { requireStaff } from '@/lib/session';
import { DashboardView } from './dashboard-view';

export default async function DashboardPage() {
  await requireStaff();
  return <DashboardView />;
}
