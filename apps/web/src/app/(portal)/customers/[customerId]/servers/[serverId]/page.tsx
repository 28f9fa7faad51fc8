import { notFound } from 'next/navigation';
import { idSchema } from '@tandem/engine';
import { requireActor } from '@/lib/session';
import { ServerView } from './server-view';

export default async function ServerPage({ params }: { params: Promise<{ customerId: string; serverId: string }> }) {
  const { customerId, serverId } = await params;
  const actor = await requireActor();
  if (!idSchema.safeParse(customerId).success || !idSchema.safeParse(serverId).success) notFound();
  if (actor.kind === 'customer' && actor.customerId !== customerId) notFound();
  return <ServerView serverId={serverId} staffRole={actor.kind === 'staff' ? actor.role : null} />;
}
