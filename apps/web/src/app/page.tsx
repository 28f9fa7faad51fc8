import { redirect } from 'next/navigation';
import { homeOf, requireActor } from '@/lib/session';

export const dynamic = 'force-dynamic';

export default async function Home() {
  redirect(homeOf(await requireActor()));
}
