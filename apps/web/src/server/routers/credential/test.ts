import { z } from 'zod';
import { CommandError } from '@tandem/agent-bus';
import { AppError, dnsNameSchema, idSchema, type DnsChange } from '@tandem/engine';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { agentOrgProcedure } from '../../trpc';
import { dnsCommandTimeout, dnsFailure, dnsServers, loadExecutor, PER_SERVER_MS } from '../pair/dns-agent';
import { openDnsAuth } from './secrets';
import { loadCredential } from './schemas';

// A TEST-NET-1 address (RFC 5737): never routed, so the short-lived check record points nowhere.
const CHECK_ADDRESS = '192.0.2.1';
// A host name without an underscore: BIND's check-names refuses an A record named _anything.
const checkName = (zone: string) => `tandem-check.${zone}`;

export const testCredentialInput = z.object({
  id: idSchema,
  zone: dnsNameSchema,
  servers: z.array(z.string().trim().min(1).max(80)).min(1, 'Give at least one DNS server').max(8),
  executorServerId: idSchema,
});

/**
 * "Can this credential update this zone?": through the executor's agent, adds the A record
 * tandem-check.<zone> → 192.0.2.1 and removes it again. Success records when it was verified;
 * a refusal (wrong key, zone not updatable) is answered plainly, not as an error.
 */
export const testCredential = agentOrgProcedure('operator')
  .input(testCredentialInput)
  .output(z.object({ ok: z.boolean(), message: z.string(), lastVerifiedAt: z.string().nullable() }))
  .mutation(async ({ ctx, input }) => {
    const { credential, executor, auth } = await ctx.tx(async (db) => {
      const credential = await loadCredential(db, input.id);
      const executor = await loadExecutor(db, input.executorServerId, credential.customerId);
      return { credential, executor, auth: openDnsAuth(credential) };
    });
    const servers = dnsServers(input.servers, 'servers');
    if (!executor.agentId) throw new AppError('CONFLICT', `The agent on ${executor.hostname} is not online; the test runs through it`);

    const name = checkName(input.zone);
    const present = { ttl: 60, records: [{ type: 'A' as const, address: CHECK_ADDRESS }] };
    const absent = { ttl: 60, records: [] };
    const change = (before: DnsChange['before'], after: DnsChange['after']): DnsChange => ({ zone: input.zone, name, type: 'A', before, after });
    const send = (c: DnsChange) =>
      agentBus().send(
        executor.agentId!,
        'dns.apply',
        { provider: credential.kind === 'domain' ? 'windows' : 'rfc2136', servers, timeoutMs: PER_SERVER_MS, ...auth, changes: [c] },
        { timeoutMs: dnsCommandTimeout(servers.length) },
      );

    let ok = false;
    let message: string;
    let step: 'add' | 'remove' = 'add';
    try {
      await send(change(absent, present));
      step = 'remove';
      await send(change(present, absent));
      ok = true;
      message = `${credential.name} can update ${input.zone} (a test record was added and removed again)`;
    } catch (err) {
      // The agent reached the DNS server and was refused (or found a conflict): a plain answer.
      // Anything else (agent unreachable, timeout) is an error the caller may retry.
      if (!(err instanceof CommandError) || err.code !== 'failed') throw err;
      message =
        step === 'add'
          ? `${credential.name} cannot update ${input.zone}: ${dnsFailure(err.message)}`
          : `The test record ${name} was added but could not be removed (${dnsFailure(err.message)}); remove it from the zone by hand`;
    }
    const verifiedAt = ok ? new Date() : null;
    await ctx.tx(async (db) => {
      if (verifiedAt) await db.credential.update({ where: { id: credential.id }, data: { lastVerifiedAt: verifiedAt } });
      await audit(db, ctx.actor, {
        action: 'credential.test',
        targetType: 'Credential',
        targetId: credential.id,
        customerId: credential.customerId,
        summary: `Tested credential "${credential.name}" on zone ${input.zone} through ${executor.hostname}: ${ok ? 'it can update the zone' : 'refused'}`,
        changes: { zone: input.zone, servers: input.servers, executorServerId: executor.id, ok },
      });
    });
    return { ok, message, lastVerifiedAt: verifiedAt?.toISOString() ?? credential.lastVerifiedAt?.toISOString() ?? null };
  });
