// Stored cluster configurations are sealed at rest: a Pacemaker CIB or a Windows cluster manifest
// can hold fence-device passwords and resource secrets. Worker (snapshots, restore) and web (diff)
// seal and open through here; the context binds a sealed copy to its version row.
import { openSecret, sealSecret } from './secrets.ts';

export const clusterConfigContext = (versionId: string) => `cluster-config:${versionId}`;

export const sealClusterConfig = (versionId: string, content: string) => sealSecret(content, clusterConfigContext(versionId));

/** A sealed value ("v1.<iv>.<tag>.<ciphertext>"); a configuration itself starts with "<" or "{". */
const isSealed = (s: string) => /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(s);

/** The configuration of a stored version; one written before sealing (plain text) is returned as it is. */
export function openClusterConfig(v: { id: string; content: string }): string {
  return isSealed(v.content) ? openSecret(v.content, clusterConfigContext(v.id)) : v.content;
}
