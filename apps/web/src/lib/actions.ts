'use server';

import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { auth, signOut } from '@/auth';
import { listWorkspaces } from '@/server/actor';
import { workspaceCookie } from '@/server/context';
import { safeNextPath } from './next-path';

export async function switchWorkspace(formData: FormData) {
  const session = await auth();
  if (!session?.user?.id) redirect('/sign-in');
  const raw = formData.get('workspace');
  const key = typeof raw === 'string' ? raw : '';
  const found = await listWorkspaces(session.user.id);
  // Only a workspace the user really has can be chosen; access is checked again on every request.
  if (found?.workspaces.some((w) => w.key === key)) {
    (await cookies()).set(workspaceCookie, key, { httpOnly: true, sameSite: 'lax', path: '/' });
  }
}

/** Signs out; a form may name a local page to come back to after signing in again (`next`). */
export async function signOutAction(formData?: FormData) {
  (await cookies()).delete(workspaceCookie);
  const next = safeNextPath(formData?.get('next'));
  await signOut({ redirectTo: next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in' });
}
