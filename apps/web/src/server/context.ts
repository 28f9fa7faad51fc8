import { auth } from '@/auth';
import { env } from '@/env';
import type { Context } from './trpc';

export const workspaceCookie = 'tandem_ws';

function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

export async function createContext(req: Request): Promise<Context> {
  const session = await auth();
  return {
    userId: session?.user?.id ?? null,
    sessionId: session?.sessionId ?? null,
    workspaceKey: readCookie(req.headers.get('cookie'), workspaceCookie),
    origin: env().TANDEM_PUBLIC_URL ?? new URL(req.url).origin,
  };
}
