import { orgRoleAtLeast } from '@tandem/engine';
import { requireStaff } from '@/lib/session';
import { CredentialsView } from './credentials-view';

export default async function CredentialsPage() {
  const actor = await requireStaff();
  return <CredentialsView canEdit={orgRoleAtLeast(actor.role, 'operator')} />;
}
