import fs from 'node:fs/promises';

export const dynamic = 'force-dynamic';

/** The bundled agent, for the one-line install command shown by "Add server". */
export async function GET() {
  const file = process.env.TANDEM_AGENT_BUNDLE;
  if (!file) return new Response('The agent bundle is not configured (TANDEM_AGENT_BUNDLE)', { status: 404 });
  try {
    const body = await fs.readFile(file);
    return new Response(body, {
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'content-disposition': 'attachment; filename="tandem-agent.mjs"' },
    });
  } catch {
    return new Response('The agent bundle has not been built', { status: 404 });
  }
}
