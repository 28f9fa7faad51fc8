// Tenant isolation at the API: every procedure that takes an id is tried with ids of another
// organization (NOT_FOUND, nothing changes), with ids of another customer of the same
// organization as a customer user (NOT_FOUND where customer users may call it, FORBIDDEN where
// only staff may), and with ids that do not exist at all (NOT_FOUND).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { addCustomerMember, createInvitation, createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { stableDigest } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { allProcedurePaths, callerFor, expectCode, procedureAt, procedureDef, tenantSnapshot, uniqueEmail } from './helpers';
import { validPairSettings } from './support/pair-settings';

/** The ids a call can name. */
interface Ids {
  customerId: string;
  customerName: string;
  orgMembershipId: string;
  customerMembershipId: string;
  invitationId: string;
  serverId: string;
  pairId: string;
  operationId: string;
  credentialId: string;
  drillId: string;
  clusterVersionId: string;
  validationRunId: string;
  /** A warning finding of that run. */
  findingId: string;
  /** Alerting: a webhook channel of the organization, a rule, a delivery and a maintenance window of the customer. */
  channelId: string;
  ruleId: string;
  deliveryId: string;
  windowId: string;
  /** A pending approval request of the pair's awaiting failover. */
  approvalId: string;
}

interface IdCase {
  path: string;
  /** The input, naming the given ids. */
  input: (ids: Ids) => unknown;
  /** What a customer user gets when naming another customer's ids (same organization). */
  customerUserGets: 'NOT_FOUND' | 'FORBIDDEN';
}

/** Every procedure whose input names a record by id. */
const idCases: IdCase[] = [
  { path: 'customer.get', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  {
    path: 'customer.update',
    input: (i) => ({ customerId: i.customerId, name: 'Taken over', notes: 'written by another tenant' }),
    customerUserGets: 'FORBIDDEN',
  },
  {
    path: 'customer.delete',
    input: (i) => ({ customerId: i.customerId, confirmName: i.customerName }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'server.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  {
    path: 'member.updateOrgRole',
    input: (i) => ({ membershipId: i.orgMembershipId, role: 'admin' }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'member.removeOrgMember', input: (i) => ({ membershipId: i.orgMembershipId }), customerUserGets: 'FORBIDDEN' },
  {
    path: 'member.updateCustomerRole',
    input: (i) => ({ membershipId: i.customerMembershipId, role: 'viewer' }),
    customerUserGets: 'FORBIDDEN',
  },
  {
    path: 'member.removeCustomerMember',
    input: (i) => ({ membershipId: i.customerMembershipId }),
    customerUserGets: 'FORBIDDEN',
  },
  {
    path: 'invitation.create',
    input: (i) => ({ kind: 'customer', customerId: i.customerId, email: uniqueEmail('cross'), role: 'approver' }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'invitation.revoke', input: (i) => ({ invitationId: i.invitationId }), customerUserGets: 'FORBIDDEN' },
  { path: 'audit.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'customer.coverage', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'agent.createEnrollment', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'FORBIDDEN' },
  { path: 'server.get', input: (i) => ({ serverId: i.serverId }), customerUserGets: 'NOT_FOUND' },
  { path: 'server.refreshFacts', input: (i) => ({ serverId: i.serverId }), customerUserGets: 'FORBIDDEN' },
  { path: 'agent.revoke', input: (i) => ({ serverId: i.serverId }), customerUserGets: 'FORBIDDEN' },
  { path: 'agent.rotate', input: (i) => ({ serverId: i.serverId }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.get', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.history', input: (i) => ({ pairId: i.pairId, window: 'day' }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.verify', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.verifyResult', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.resend', input: (i) => ({ pairId: i.pairId, items: [{ root: '/srv', path: 'x' }] }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.wizard', input: (i) => ({ customerId: i.customerId, sourceServerId: i.serverId }), customerUserGets: 'FORBIDDEN' },
  {
    path: 'pair.create',
    input: (i) => ({ customerId: i.customerId, sourceServerId: i.serverId, targetServerId: i.serverId, settings: validPairSettings() }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'pair.update', input: (i) => ({ pairId: i.pairId, settings: validPairSettings() }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.enable', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.disable', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.setMonitoring', input: (i) => ({ pairId: i.pairId, enabled: true }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.events', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.operations', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.settings', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  // Subscriptions decide access before streaming: a refused one never starts (live-updates.test.ts
  // shows the same over HTTP, and that no notice of another tenant arrives).
  { path: 'pair.live', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'server.live', input: (i) => ({ serverId: i.serverId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.failover.preview', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.failover.start', input: (i) => ({ pairId: i.pairId, mode: 'graceful', confirmName: 'x' }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.failback.preview', input: (i) => ({ pairId: i.pairId, restoreFirst: true, reprotect: true }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.failback.start', input: (i) => ({ pairId: i.pairId, restoreFirst: true, reprotect: true, confirmName: 'x' }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.operation', input: (i) => ({ operationId: i.operationId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.testReport', input: (i) => ({ operationId: i.operationId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.testFailover.preview', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.testFailover.start', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.tests', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'pair.updateTesting', input: (i) => ({ pairId: i.pairId, testing: { probes: [], copyMethod: 'copy' } }), customerUserGets: 'FORBIDDEN' },
  { path: 'pair.dnsRecords', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  {
    path: 'pair.dnsDiscover',
    input: (i) => ({ sourceServerId: i.serverId, targetServerId: i.serverId, dns: { servers: ['127.0.0.1'], zone: 'corp.test', credentialId: i.credentialId, executorServerId: i.serverId } }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'credential.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  {
    path: 'credential.create',
    input: (i) => ({ kind: 'dns_tsig', name: `cross-${randomUUID().slice(0, 6)}`, customerId: i.customerId, keyName: 'k.corp.test', algorithm: 'hmac-sha256', secret: 'c2VjcmV0' }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'credential.update', input: (i) => ({ id: i.credentialId, name: 'Taken over' }), customerUserGets: 'FORBIDDEN' },
  { path: 'credential.remove', input: (i) => ({ id: i.credentialId }), customerUserGets: 'FORBIDDEN' },
  { path: 'credential.test', input: (i) => ({ id: i.credentialId, zone: 'corp.test', servers: ['127.0.0.1'], executorServerId: i.serverId }), customerUserGets: 'FORBIDDEN' },
  { path: 'drill.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'FORBIDDEN' },
  { path: 'drill.create', input: (i) => ({ customerId: i.customerId, pairId: i.pairId, everyDays: 7 }), customerUserGets: 'FORBIDDEN' },
  { path: 'drill.update', input: (i) => ({ id: i.drillId, enabled: false }), customerUserGets: 'FORBIDDEN' },
  { path: 'drill.remove', input: (i) => ({ id: i.drillId }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.get', input: (i) => ({ customerId: i.customerId, stack: 'pacemaker', name: 'web' }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.versions', input: (i) => ({ customerId: i.customerId, stack: 'pacemaker', name: 'web' }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.diff', input: (i) => ({ fromId: i.clusterVersionId, toId: i.clusterVersionId }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.snapshot', input: (i) => ({ customerId: i.customerId, stack: 'pacemaker', name: 'web' }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.restore.preview', input: (i) => ({ versionId: i.clusterVersionId }), customerUserGets: 'FORBIDDEN' },
  { path: 'cluster.restore.start', input: (i) => ({ versionId: i.clusterVersionId, confirmName: 'web' }), customerUserGets: 'FORBIDDEN' },
  { path: 'report.monthly', input: (i) => ({ customerId: i.customerId, month: new Date().toISOString().slice(0, 7) }), customerUserGets: 'NOT_FOUND' },
  { path: 'report.months', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'validation.start', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'FORBIDDEN' },
  { path: 'validation.latest', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'validation.runs', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'validation.diff', input: (i) => ({ runA: i.validationRunId, runB: i.validationRunId }), customerUserGets: 'NOT_FOUND' },
  { path: 'validation.acknowledge', input: (i) => ({ findingId: i.findingId, reason: 'taken over', days: 30 }), customerUserGets: 'FORBIDDEN' },
  { path: 'validation.unacknowledge', input: (i) => ({ findingId: i.findingId }), customerUserGets: 'FORBIDDEN' },
  { path: 'validation.fixPreview', input: (i) => ({ findingIds: [i.findingId] }), customerUserGets: 'NOT_FOUND' },
  { path: 'validation.fixAllPreview', input: (i) => ({ pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'validation.fix', input: (i) => ({ findingIds: [i.findingId] }), customerUserGets: 'FORBIDDEN' },
  { path: 'validation.fixAll', input: (i) => ({ pairId: i.pairId, deselected: [i.findingId] }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.channel.update', input: (i) => ({ channelId: i.channelId, name: 'Taken over', enabled: false }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.channel.remove', input: (i) => ({ channelId: i.channelId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.channel.rotateSecret', input: (i) => ({ channelId: i.channelId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.channel.sendTest', input: (i) => ({ channelId: i.channelId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.rule.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.rule.create', input: (i) => ({ customerId: i.customerId, channelId: i.channelId, events: ['agent.offline'] }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.rule.update', input: (i) => ({ ruleId: i.ruleId, enabled: false }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.rule.remove', input: (i) => ({ ruleId: i.ruleId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.delivery.list', input: (i) => ({ customerId: i.customerId, channelId: i.channelId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.delivery.listForCustomer', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'alert.delivery.redeliver', input: (i) => ({ deliveryId: i.deliveryId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.open.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'FORBIDDEN' },
  { path: 'alert.open.listForCustomer', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'alert.window.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  {
    path: 'alert.window.create',
    input: (i) => ({ customerId: i.customerId, pairId: i.pairId, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), reason: 'taken over' }),
    customerUserGets: 'FORBIDDEN',
  },
  { path: 'alert.window.end', input: (i) => ({ customerId: i.customerId, windowId: i.windowId }), customerUserGets: 'FORBIDDEN' },
  { path: 'approval.list', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'approval.get', input: (i) => ({ approvalId: i.approvalId }), customerUserGets: 'NOT_FOUND' },
  { path: 'approval.decide', input: (i) => ({ approvalId: i.approvalId, decision: 'approved' }), customerUserGets: 'NOT_FOUND' },
  { path: 'approval.policy', input: (i) => ({ customerId: i.customerId }), customerUserGets: 'NOT_FOUND' },
  { path: 'approval.setPolicy', input: (i) => ({ customerId: i.customerId, policy: { approvers: 'msp', fourEyes: false, deadlineMinutes: 5, escalate: false, escalationEmails: [], onDeadline: 'proceed' } }), customerUserGets: 'FORBIDDEN' },
  { path: 'approval.pairPolicy', input: (i) => ({ customerId: i.customerId, pairId: i.pairId }), customerUserGets: 'NOT_FOUND' },
  { path: 'approval.setPairPolicy', input: (i) => ({ customerId: i.customerId, pairId: i.pairId, override: { onDeadline: 'proceed' } }), customerUserGets: 'FORBIDDEN' },
];


/** Procedures that name no record by id (tokens and filters aside); checked below. */
const noIdProcedures = [
  'account.changePassword',
  'account.me',
  'account.totpBegin',
  'account.totpDisable',
  'account.totpEnable',
  'alert.channel.create',
  'alert.channel.list',
  'alert.smtp.get',
  'alert.smtp.set',
  'alert.smtp.test',
  'approval.openLink', // by token
  'audit.facets',
  'customer.create',
  'customer.list',
  'dashboard.drills',
  'dashboard.live',
  'dashboard.summary',
  'invitation.accept', // by token
  'invitation.list',
  'invitation.preview', // by token
  'member.list',
  'validation.rollup',
  'validation.settings',
  'validation.updateSettings',
  'workspace.list',
];

/** Field paths of a zod input schema whose value is a uuid (an id). */
function uuidFields(schema: unknown, prefix = ''): string[] {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  if (!def) return [];
  switch (def.type) {
    case 'string':
      return def.format === 'uuid' ? [prefix || '(input)'] : [];
    case 'object':
      return Object.entries(def.shape as Record<string, unknown>).flatMap(([k, v]) =>
        uuidFields(v, prefix ? `${prefix}.${k}` : k),
      );
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return uuidFields(def.innerType, prefix);
    case 'pipe':
      return uuidFields(def.in, prefix);
    case 'union':
      return [...new Set((def.options as unknown[]).flatMap((o) => uuidFields(o, prefix)))];
    case 'array':
      return uuidFields(def.element, `${prefix}[]`);
    default:
      return [];
  }
}

const procedureIdFields = (path: string) => [...new Set(procedureDef(path).inputs.flatMap((s) => uuidFields(s)))];

let a: Tenant;
let b: Tenant;

/** A protection pair between two servers of the customer, with one replication sample. */
async function pairOf(t: Tenant, customer: { id: string; organizationId: string }) {
  const [source, target] = [await createServer(customer), await createServer(customer)];
  const pair = await ownerDb().protectionPair.create({
    data: { organizationId: t.org.id, customerId: customer.id, name: `pair-${randomUUID().slice(0, 6)}`, sourceServerId: source.id, targetServerId: target.id, application: 'file_server' },
  });
  await ownerDb().replicationSample.create({ data: { organizationId: t.org.id, customerId: customer.id, pairId: pair.id, lagSeconds: 1 } });
  return pair;
}
/** A finished operation of the pair and a TSIG credential of the customer. */
async function operationAndCredentialOf(t: Tenant, customer: { id: string }, pairId: string) {
  const op = await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: customer.id, pairId, kind: 'failover', status: 'succeeded', options: { mode: 'graceful' } } });
  const id = randomUUID();
  await ownerDb().credential.create({
    data: { id, organizationId: t.org.id, customerId: customer.id, kind: 'dns_tsig', name: `key-${id.slice(0, 6)}`, publicInfo: { keyName: 'k.corp.test', algorithm: 'hmac-sha256' }, secretEnc: sealSecret('c2VjcmV0', `credential:${id}:secret`) },
  });
  return { operationId: op.id, credentialId: id };
}
/** A monthly drill of the pair, next due in a week. */
function drillOf(t: Tenant, customer: { id: string }, pairId: string) {
  return ownerDb().drillSchedule.create({ data: { organizationId: t.org.id, customerId: customer.id, pairId, everyDays: 30, nextDueAt: new Date(Date.now() + 7 * 86_400_000) } });
}
/** A saved configuration of the server's cluster "web" (the server reports it in its facts). */
async function clusterVersionOf(t: Tenant, server: { id: string; customerId: string }) {
  const cluster = { stack: 'pacemaker', name: 'web', quorate: true, nodes: [{ name: 'n1', online: true }], resources: [], groups: [], constraints: [], fencing: null };
  await ownerDb().server.update({ where: { id: server.id }, data: { facts: { cluster: { status: 'ok', data: cluster } } } });
  return ownerDb().clusterConfigVersion.create({
    data: { organizationId: t.org.id, customerId: server.customerId, stack: 'pacemaker', clusterName: 'web', serverId: server.id, reason: 'manual', sha256: '0'.repeat(64), sizeBytes: 6, content: '<cib/>' },
  });
}
/** A finished validation run of the pair with one fixable warning (an acknowledgeable, fixable finding). */
async function validationRunOf(t: Tenant, customer: { id: string }, pairId: string) {
  const evidence = { ttl: 3600 };
  const run = await ownerDb().validationRun.create({
    data: {
      organizationId: t.org.id,
      customerId: customer.id,
      pairId,
      status: 'warnings',
      finishedAt: new Date(),
      overall: 'warning-fixable',
      results: [{ checkId: 'dns.ttl-above-recommended', side: 'none', status: 'warning-fixable' }],
      findings: {
        create: {
          organizationId: t.org.id,
          customerId: customer.id,
          pairId,
          checkId: 'dns.ttl-above-recommended',
          severity: 'warning',
          message: 'TTL above 300 s',
          side: 'none',
          subject: 'record=A files.corp.test',
          status: 'warning-fixable',
          evidence,
          evidenceDigest: stableDigest(evidence),
          phase: 4,
          plan: [{ action: 'dns.set-ttl', records: [{ type: 'A', name: 'files.corp.test' }], ttl: 300, description: 'Lower the TTL', before: '3600', after: '300' }],
        },
      },
    },
    include: { findings: true },
  });
  return { validationRunId: run.id, findingId: run.findings[0]!.id };
}
/** A pending approval request of an awaiting failover of the pair. */
async function approvalOf(t: Tenant, customer: { id: string }, pairId: string) {
  const db = ownerDb();
  const op = await db.operation.create({ data: { organizationId: t.org.id, customerId: customer.id, pairId, kind: 'failover', status: 'awaiting_approval', options: { mode: 'graceful' } } });
  const approval = await db.approval.create({ data: { organizationId: t.org.id, customerId: customer.id, operationId: op.id, pairId, policy: {}, deadlineAt: new Date(Date.now() + 3_600_000) } });
  return { approvalId: approval.id };
}
/** Alerting records of the customer: a webhook channel of the organization with a rule for the customer, a failed delivery, a maintenance window. */
async function alertingOf(t: Tenant, customer: { id: string }, pairId: string) {
  const db = ownerDb();
  const id = randomUUID();
  const channel = await db.alertChannel.create({
    data: { id, organizationId: t.org.id, kind: 'webhook', name: `hook-${id.slice(0, 6)}`, config: { url: 'https://hooks.example.test/x', preset: 'standard' }, secretEnc: sealSecret('whsec_c2VjcmV0', `alert-channel:${id}`) },
  });
  const rule = await db.alertRule.create({ data: { organizationId: t.org.id, customerId: customer.id, channelId: channel.id, events: ['agent.offline'] } });
  const delivery = await db.alertDelivery.create({
    data: { organizationId: t.org.id, customerId: customer.id, channelId: channel.id, kind: 'webhook', recipient: 'https://hooks.example.test/x', event: 'agent.offline', payload: { kind: 'webhook', preset: 'standard', body: {} }, status: 'failed', attempts: 3 },
  });
  const window = await db.maintenanceWindow.create({ data: { organizationId: t.org.id, customerId: customer.id, pairId, startsAt: new Date(), endsAt: new Date(Date.now() + 3_600_000), reason: 'patching' } });
  return { channelId: channel.id, ruleId: rule.id, deliveryId: delivery.id, windowId: window.id };
}
let bIds: Ids;
let yIds: Ids;

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
  bIds = {
    customerId: b.customerX.id,
    customerName: b.customerX.name,
    orgMembershipId: b.viewerMembership.id,
    customerMembershipId: b.customerMembership.id,
    invitationId: b.invitation.id,
    serverId: b.serverX.id,
    pairId: (await pairOf(b, b.customerX)).id,
    operationId: '',
    credentialId: '',
    drillId: '',
    clusterVersionId: '',
    validationRunId: '',
    findingId: '',
    channelId: '',
    ruleId: '',
    deliveryId: '',
    windowId: '',
    approvalId: '',
  };
  Object.assign(bIds, await operationAndCredentialOf(b, b.customerX, bIds.pairId));
  Object.assign(bIds, await approvalOf(b, b.customerX, bIds.pairId));
  Object.assign(bIds, await validationRunOf(b, b.customerX, bIds.pairId));
  Object.assign(bIds, await alertingOf(b, b.customerX, bIds.pairId));
  bIds.drillId = (await drillOf(b, b.customerX, bIds.pairId)).id;
  bIds.clusterVersionId = (await clusterVersionOf(b, b.serverX)).id;
  const { invitation: yInvitation } = await createInvitation({ organizationId: a.org.id, customerId: a.customerY.id });
  yIds = {
    customerId: a.customerY.id,
    customerName: a.customerY.name,
    orgMembershipId: a.viewerMembership.id,
    customerMembershipId: a.customerYMembership.id,
    invitationId: yInvitation.id,
    serverId: a.serverY.id,
    pairId: (await pairOf(a, a.customerY)).id,
    operationId: '',
    credentialId: '',
    drillId: '',
    clusterVersionId: '',
    validationRunId: '',
    findingId: '',
    channelId: '',
    ruleId: '',
    deliveryId: '',
    windowId: '',
    approvalId: '',
  };
  Object.assign(yIds, await operationAndCredentialOf(a, a.customerY, yIds.pairId));
  Object.assign(yIds, await approvalOf(a, a.customerY, yIds.pairId));
  Object.assign(yIds, await validationRunOf(a, a.customerY, yIds.pairId));
  Object.assign(yIds, await alertingOf(a, a.customerY, yIds.pairId));
  yIds.drillId = (await drillOf(a, a.customerY, yIds.pairId)).id;
  yIds.clusterVersionId = (await clusterVersionOf(a, a.serverY)).id;
  // Servers with live-looking agents, so revoke/rotate would have something to change.
  for (const [t, server] of [
    [b, b.serverX],
    [a, a.serverY],
  ] as const) {
    await ownerDb().agent.create({
      data: { organizationId: t.org.id, customerId: server.customerId, serverId: server.id, status: 'online', credentialHash: randomUUID() },
    });
  }
});

describe('the table of id-taking procedures', () => {
  it('covers every procedure of the router (new procedures must be added here)', () => {
    const covered = [...idCases.map((c) => c.path), ...noIdProcedures].sort();
    expect(new Set(covered).size, 'a procedure is listed twice').toBe(covered.length);
    expect(covered).toEqual(allProcedurePaths());
  });

  it('lists as id-free only procedures whose input has no id field', () => {
    const withIds = noIdProcedures.map((path) => ({ path, ids: procedureIdFields(path) })).filter((p) => p.ids.length > 0);
    expect(withIds, 'these take ids: move them to idCases').toEqual([]);
  });

  it.each(idCases.map((c) => c.path))('%s really takes an id', (path) => {
    expect(procedureIdFields(path).length).toBeGreaterThan(0);
  });
});

describe('an owner of organization A naming organization B’s records', () => {
  it.each(idCases)('$path → NOT_FOUND, and B is unchanged', async ({ path, input }) => {
    const before = await tenantSnapshot(b.org.id);
    const err = await expectCode(procedureAt(callerFor(a.owner.id), path)(input(bIds)), 'NOT_FOUND');
    expect(err.message).toMatch(/not found/i);
    expect(await tenantSnapshot(b.org.id)).toEqual(before);
  });

  it('B’s own owner can make those same calls (the ids are real)', async () => {
    const get = await callerFor(b.owner.id).customer.get({ customerId: b.customerX.id });
    expect(get.id).toBe(b.customerX.id);
    const servers = await callerFor(b.owner.id).server.list({ customerId: b.customerX.id });
    expect(servers.map((s) => s.id)).toContain(b.serverX.id);
    const pair = await callerFor(b.owner.id).pair.get({ pairId: bIds.pairId });
    expect(pair.latest?.lagSeconds).toBe(1);
    const history = await callerFor(b.owner.id).pair.history({ pairId: bIds.pairId, window: 'hour' });
    expect(history.points).toHaveLength(1);
    expect(history.points[0]!.lagSeconds).toBe(1);
  });

  it('cannot switch into B with a forged workspace cookie: the key is ignored', async () => {
    const caller = callerFor(a.owner.id, `org:${b.org.id}`);
    const list = await caller.customer.list();
    expect(list.map((c) => c.id).sort()).toEqual([a.customerX.id, a.customerY.id].sort());
    const ws = await caller.workspace.list();
    expect(ws.active?.organizationId).toBe(a.org.id);
    expect(ws.workspaces.map((w) => w.organizationId)).not.toContain(b.org.id);
  });

  it('filters naming B’s actor or B’s event as cursor return none of B’s events', async () => {
    const caller = callerFor(a.owner.id);
    const byActor = await caller.audit.list({ actorId: b.owner.id });
    expect(byActor.events).toEqual([]);
    const byCursor = await caller.audit.list({ cursor: b.audit.id });
    expect(byCursor.events.filter((e) => e.id === b.audit.id || e.customerId === b.customerX.id)).toEqual([]);
  });
});

describe('a customer user of X naming customer Y’s records (same organization)', () => {
  it.each(idCases)('$path → $customerUserGets, and nothing changes', async ({ path, input, customerUserGets }) => {
    const before = await tenantSnapshot(a.org.id);
    await expectCode(procedureAt(callerFor(a.customerUser.id), path)(input(yIds)), customerUserGets);
    expect(await tenantSnapshot(a.org.id)).toEqual(before);
  });

  it('can read their own customer through the same procedures', async () => {
    const caller = callerFor(a.customerUser.id);
    expect((await caller.customer.get({ customerId: a.customerX.id })).id).toBe(a.customerX.id);
    expect((await caller.server.list({ customerId: a.customerX.id })).map((s) => s.id)).toEqual([a.serverX.id]);
    const audit = await caller.audit.list({ customerId: a.customerX.id });
    expect(audit.events.map((e) => e.id)).toContain(a.audit.id);
  });
});

describe('a person who is staff of A and a customer user of B', () => {
  it('sees exactly the workspace the cookie names, and nothing of the other', async () => {
    const both = a.operator;
    await addCustomerMember(b.customerY, both.id, 'viewer');
    const ws = await callerFor(both.id).workspace.list();
    expect(ws.workspaces.map((w) => w.key).sort()).toEqual([`customer:${b.customerY.id}`, `org:${a.org.id}`].sort());

    const asStaff = callerFor(both.id, `org:${a.org.id}`);
    expect((await asStaff.customer.list()).map((c) => c.id).sort()).toEqual([a.customerX.id, a.customerY.id].sort());
    await expectCode(asStaff.customer.get({ customerId: b.customerY.id }), 'NOT_FOUND');

    const asCustomer = callerFor(both.id, `customer:${b.customerY.id}`);
    expect((await asCustomer.customer.list()).map((c) => c.id)).toEqual([b.customerY.id]);
    await expectCode(asCustomer.customer.get({ customerId: a.customerX.id }), 'NOT_FOUND');
    await expectCode(asCustomer.customer.get({ customerId: b.customerX.id }), 'NOT_FOUND');
    await expectCode(asCustomer.member.list(), 'FORBIDDEN');
    const audit = await asCustomer.audit.list({});
    expect(audit.events.every((e) => e.customerId === b.customerY.id)).toBe(true);
  });
});

describe('ids that do not exist', () => {
  const missing: Ids = {
    customerId: randomUUID(),
    customerName: 'Nobody',
    orgMembershipId: randomUUID(),
    customerMembershipId: randomUUID(),
    invitationId: randomUUID(),
    serverId: randomUUID(),
    pairId: randomUUID(),
    operationId: randomUUID(),
    credentialId: randomUUID(),
    drillId: randomUUID(),
    clusterVersionId: randomUUID(),
    validationRunId: randomUUID(),
    findingId: randomUUID(),
    channelId: randomUUID(),
    ruleId: randomUUID(),
    deliveryId: randomUUID(),
    windowId: randomUUID(),
    approvalId: randomUUID(),
  };

  it.each(idCases)('$path → NOT_FOUND for an owner', async ({ path, input }) => {
    const before = await tenantSnapshot(a.org.id);
    await expectCode(procedureAt(callerFor(a.owner.id), path)(input(missing)), 'NOT_FOUND');
    expect(await tenantSnapshot(a.org.id)).toEqual(before);
  });
});
