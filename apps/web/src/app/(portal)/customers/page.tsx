import { requireStaff } from '@/lib/session';
import { CustomersView } from './customers-view';

export default async function CustomersPage() {
  const actor = await requireStaff();
  return <CustomersView role={actor.role} />;
}
