import { requireActor } from '@/lib/session';
import { AccountView } from './account-view';

export default async function AccountPage() {
  await requireActor();
  return <AccountView />;
}
