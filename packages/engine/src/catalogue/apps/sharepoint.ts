import { z } from 'zod';
import type { NodeFacts } from '../snapshot.ts';

// SharePoint application facts (catalogue §2.16, `app.sharepoint`): SharePoint Server 2016, 2019
// and Subscription Edition front ends. The SQL back end has its own `app.sqlserver` facts.

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

export const sharepointFactsSchema = z.strictObject({
  /** Build: product version (16.0.17328.20000), cumulative update label, installed language packs. */
  build: z.strictObject({ version: str, cu: str.nullable(), languagePacks: list(str, 100) }),
  /** The farm this server is joined to; null: installed but not configured. */
  farm: z.strictObject({ configDatabase: str, databaseServer: str }).nullable(),
  /** SharePoint Windows services (timer, search, user code…) and the TCP ports they serve. */
  services: list(z.strictObject({ name: str, displayName: str, ports: list(z.number().int().min(1).max(65_535), 64) }), 200),
  /** TCP port of the farm's SQL instance (through its alias). */
  sqlPort: z.number().int().min(1).max(65_535),
  /** Alternate access mappings and public URLs. */
  urls: list(z.strictObject({ zone: str, url: str }), 1000),
});
export type SharepointFacts = z.infer<typeof sharepointFactsSchema>;

/** The node's SharePoint facts, validated; a value that does not fit is an error (→ unknown); null: not installed. */
export function sharepointOf(node: NodeFacts | null, side: string): SharepointFacts | null {
  if (!node) throw new Error(`the ${side} has no facts`);
  const raw = node.apps.sharepoint;
  if (raw === null) return null;
  const parsed = sharepointFactsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the ${side}'s SharePoint facts are malformed: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

/** The host name of a URL (lower case), or null when it does not parse. */
export function urlHost(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(url.trim());
  return m ? m[1]!.toLowerCase() : null;
}
