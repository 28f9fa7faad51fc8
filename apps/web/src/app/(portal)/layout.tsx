import type { ReactNode } from 'react';
import { Shell } from '@/components/shell';
import { requireActor } from '@/lib/session';

export const dynamic = 'force-dynamic';

export default async function PortalLayout({ children }: { children: ReactNode }) {
  const actor = await requireActor();
  return <Shell actor={actor}>{children}</Shell>;
}
