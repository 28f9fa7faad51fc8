// Asking the customer's DNS servers through an agent (the pair's DNS executor): shared by the
// pair's DNS records, discovery in the wizard and the credential test.
import type { TenantTx } from '@tandem/db';
import { AppError, notFound, parseDnsServer, type DnsServerAddress } from '@tandem/engine';

/** Each server gets this long before the next is tried (the agent's own deadline per server). */
export const PER_SERVER_MS = 30_000;

/** How long the web request waits for the agent: every server in turn, plus the way there and back. */
export const dnsCommandTimeout = (servers: number) => servers * PER_SERVER_MS + 10_000;

/** The settings' server strings as addresses; one that is not an IP address is a field error. */
export function dnsServers(texts: string[], field = 'dns.servers'): DnsServerAddress[] {
  if (texts.length === 0) throw new AppError('BAD_REQUEST', 'Give at least one DNS server', { [field]: 'Give at least one DNS server' });
  return texts.map((t) => {
    const s = parseDnsServer(t);
    if (!s) throw new AppError('BAD_REQUEST', `"${t}" is not a DNS server address (an IP address, optionally with :port)`, { [field]: `"${t}" is not an IP address` });
    return s;
  });
}

/** The server whose agent talks DNS, which must belong to `customerId` (or, with null, to the organization). */
export async function loadExecutor(db: TenantTx, serverId: string, customerId: string | null) {
  const server = await db.server.findUnique({ where: { id: serverId }, include: { agent: { select: { id: true, status: true } } } });
  if (!server) throw notFound('Server');
  if (customerId && server.customerId !== customerId) {
    throw new AppError('BAD_REQUEST', 'The DNS executor must be a server of the same customer', { executorServerId: 'Choose a server of this customer' });
  }
  return { id: server.id, hostname: server.hostname, customerId: server.customerId, agentId: server.agent?.status === 'online' ? server.agent.id : null };
}

/** A DNS server's or agent's refusal as a person reads it (the agent's own message kept). */
export function dnsFailure(commandMessage: string): string {
  // The bus puts the agent's error code in front ("failed: …"); the sentence after it is the agent's.
  const message = commandMessage.replace(/^[a-z_]+: /, '');
  if (!/^The DNS server/i.test(message) && /BADKEY|BADSIG|BADTIME|NOTAUTH|REFUSED/i.test(message)) return `The DNS server refused it: ${message}`;
  return message;
}
