import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { auth } from '@/auth';
import { resolveActor, type Actor } from '@/server/actor';
import { workspaceCookie } from '@/server/context';

/** The acting user for a page; signed-out visitors go to the sign-in page. */
export async function requireActor(): Promise<Actor> {
  const session = await auth();
  if (!session?.user?.id) redirect('/sign-in');
  const key = (await cookies()).get(workspaceCookie)?.value ?? null;
  const actor = await resolveActor(session.user.id, key);
  if (!actor) redirect('/no-access');
  return actor;
}

/** MSP pages: a customer user is sent back to their own customer. */
export async function requireStaff() {
  const actor = await requireActor();
  if (actor.kind === 'customer') redirect(`/customers/${actor.customerId}`);
  return actor;
}

/** Where `/` leads: MSP staff land on the dashboard, a customer user on their own customer. */
export function homeOf(actor: Actor): string {
  return actor.kind === 'customer' ? `/customers/${actor.customerId}` : '/dashboard';
}
