// The tRPC endpoint over HTTP (used by the Next.js route and by the tests, so both see the same
// rules). Mutations change things with the user's cookie, so before one runs: the body must be
// JSON (a plain HTML form can send only form encodings, and tRPC would otherwise read
// multipart/form-data), and the Origin header must be this app's own, so no other site, not even
// a same-site one, can make the browser post a mutation.
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { appRouter } from './routers/_app';
import type { Context } from './trpc';

function refusal(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { message, code: -32600, data: { code, httpStatus: status, fields: null } } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * The answer for a request that must not reach a procedure, or null. Reads (GET: queries and
 * subscriptions) pass; tRPC runs mutations only for POST.
 * @param appOrigins the origins this app is served at (its public URL and the request's own)
 */
export function refuseUnsafeRequest(req: Request, appOrigins: string[]): Response | null {
  if (req.method === 'GET' || req.method === 'HEAD') return null;
  const type = req.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json');
  }
  const origin = req.headers.get('origin');
  if (!origin || !appOrigins.includes(origin)) {
    return refusal(403, 'FORBIDDEN', 'This request must come from the Tandem portal itself (Origin does not match)');
  }
  return null;
}

/** Serves /api/trpc: the checks above, then tRPC. */
export async function handleTrpcRequest(req: Request, createContext: () => Promise<Context> | Context, publicUrl?: string): Promise<Response> {
  const url = new URL(req.url);
  const origins = [url.origin];
  // The host the browser addressed (a page cannot choose it for a request to another site).
  const host = req.headers.get('host');
  if (host) origins.push(`${url.protocol}//${host}`);
  if (publicUrl) origins.push(new URL(publicUrl).origin);
  const refused = refuseUnsafeRequest(req, origins);
  if (refused) return refused;
  return fetchRequestHandler({ endpoint: '/api/trpc', req, router: appRouter, createContext });
}
