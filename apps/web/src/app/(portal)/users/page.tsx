import { requireStaff } from '@/lib/session';
import { UsersView } from './users-view';

export default async function UsersPage() {
  const actor = await requireStaff();
  return <UsersView role={actor.role} selfId={actor.userId} />;
}
