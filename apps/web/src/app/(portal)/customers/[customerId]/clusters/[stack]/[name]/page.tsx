import { notFound } from 'next/navigation';
import { clusterStacks, idSchema, orgRoleAtLeast } from '@tandem/engine';
import { requireStaff } from '@/lib/session';
import { ClusterView } from './cluster-view';

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

export default async function ClusterPage({ params }: { params: Promise<{ customerId: string; stack: string; name: string }> }) {
  const p = await params;
  const actor = await requireStaff();
  const stack = decode(p.stack);
  const name = decode(p.name);
  if (!idSchema.safeParse(p.customerId).success || !name || !(clusterStacks as readonly (string | null)[]).includes(stack))
    notFound();
  return (
    <ClusterView
      customerId={p.customerId}
      stack={stack as (typeof clusterStacks)[number]}
      name={name}
      canOperate={orgRoleAtLeast(actor.role, 'operator')}
    />
  );
}
