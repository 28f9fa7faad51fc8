import { z } from 'zod';
import { dnsChangeSchema, dnsNameSchema, dnsRecordTypeSchema, dnsRRsetSchema, dnsServerSchema } from '@tandem/engine';

// Actions of failover and failback runbooks: DNS, addresses, services as desired state.
// Each is idempotent: sent twice (a worker that crashed and re-sent, a retry) it changes nothing
// the second time and answers what the state is.

// ---- DNS (the DNS executor agent talks to the customer's DNS servers) ----

/** A TSIG key as sent to the executing agent only (never stored by it, never logged). */
export const tsigKeyArgSchema = z.strictObject({
  name: dnsNameSchema,
  algorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']),
  /** The shared secret, base64. */
  secret: z.string().min(4).max(512).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'the secret is base64'),
});

/** A Windows domain account for secure (Kerberos) updates through the DNS server cmdlets. */
export const domainAccountArgSchema = z.strictObject({ user: z.string().min(1).max(256), password: z.string().min(1).max(1024) });

const dnsTarget = {
  /** rfc2136: dynamic update from this agent; windows: DnsServer cmdlets on this (Windows) agent. */
  provider: z.enum(['rfc2136', 'windows']).default('rfc2136'),
  /** In order: the next only when one does not answer within timeoutMs. */
  servers: z.array(dnsServerSchema).min(1).max(8),
  timeoutMs: z.number().int().min(100).max(120_000).default(30_000),
  tsig: tsigKeyArgSchema.optional(),
  account: domainAccountArgSchema.optional(),
};

/** `dns.query`: the current RRsets (records: [] when absent). */
export const dnsQueryArgsSchema = z.strictObject({
  ...dnsTarget,
  /** For the windows provider: the zone each question is looked up in (the cmdlets are per zone). */
  zone: dnsNameSchema.optional(),
  questions: z.array(z.strictObject({ name: dnsNameSchema, type: dnsRecordTypeSchema })).min(1).max(256),
});
export const dnsQueryResultSchema = z.strictObject({
  /** The server that answered. */
  server: z.string(),
  rrsets: z.array(z.strictObject({ ...dnsRRsetSchema.shape, rcode: z.string().max(32) })).max(256),
});

/** `dns.transfer`: the zone's A, AAAA, CNAME, MX and PTR records (discovery), by AXFR or Get-DnsServerResourceRecord. */
export const dnsTransferArgsSchema = z.strictObject({ ...dnsTarget, zone: dnsNameSchema });
export const MAX_TRANSFER_RRSETS = 20_000;
export const dnsTransferResultSchema = z.strictObject({
  server: z.string(),
  rrsets: z.array(dnsRRsetSchema).max(MAX_TRANSFER_RRSETS),
  truncated: z.boolean(),
});

/**
 * `dns.apply`: each change's RRset made equal to `after`. Per change: already `after` → nothing
 * sent (`already`); equal to `before` → one update with a prerequisite that it still is
 * (`changed`); anything else → the whole command fails with a conflict naming the RRset and what
 * it holds, and nothing is changed. Changes of one zone go in one update message (all or nothing).
 */
export const dnsApplyArgsSchema = z.strictObject({
  ...dnsTarget,
  changes: z.array(dnsChangeSchema).min(1).max(128),
});
export const dnsApplyResultSchema = z.strictObject({
  server: z.string(),
  changes: z.array(z.strictObject({ zone: z.string(), name: z.string(), type: dnsRecordTypeSchema, outcome: z.enum(['changed', 'already']) })).max(128),
});

// ---- addresses (identity failover) ----

/**
 * `address.ensure`: the address is present on (or absent from) this server. Present: added to
 * `interface` (or the interface whose subnet holds it; refused when none, unless `force`), then
 * announced (gratuitous ARP for IPv4, unsolicited neighbour advertisement for IPv6).
 */
export const addressEnsureArgsSchema = z.strictObject({
  address: z.union([z.ipv4(), z.ipv6()]),
  prefix: z.number().int().min(0).max(128),
  interface: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:@ -]+$/).nullable().default(null),
  present: z.boolean(),
  force: z.boolean().default(false),
});
export const addressEnsureResultSchema = z.strictObject({
  present: z.boolean(),
  /** Whether this call changed anything (false: it already was so). */
  changed: z.boolean(),
  interface: z.string().nullable(),
  announced: z.boolean(),
});

// ---- services as desired state ----

/** `service.ensure`: running or stopped, waited for up to timeoutMs (a service that fails to get there is an error naming its state). */
export const serviceEnsureArgsSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9@._:+$\- ]+$/),
  state: z.enum(['running', 'stopped']),
  timeoutMs: z.number().int().min(100).max(3_600_000).default(120_000),
});

/** `service.set-startup-mode`: automatic, manual or disabled (systemd: enable / disable / disable + mask, so a disabled unit cannot be started; SysV: rc links; Windows: Set-Service). Meanings in apps/agent/src/actions/services.ts. */
export const serviceStartupModeArgsSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9@._:+$\- ]+$/),
  mode: z.enum(['automatic', 'manual', 'disabled']),
});
