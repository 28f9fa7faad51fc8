// Invitation links (preview, accept, revoke, expiry), the audit trail every mutation writes, and
// the rules that keep an organization manageable (last owner, who may grant what).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '@tandem/db';
import { addOrgMember, createInvitation, createTenant, createUser, ownerDb, testPassword, type Tenant } from '@tandem/db/testing';
import { totpCode } from '@tandem/security';
import { signIn } from '@/server/services/sign-in';
import { allProcedurePaths, auditEventsOf, callerFor, expectCode, procedureDef, tenantSnapshot, uniqueEmail } from './helpers';

const newPassword = 'a brand new long password';
const tokenOf = (link: string) => link.split('/invite/')[1]!;

describe('accepting an invitation as a new person', () => {
  let t: Tenant;
  let newUserId: string;

  beforeAll(async () => {
    t = await createTenant();
  });

  it('preview shows what the link is for, without an account yet', async () => {
    const preview = await callerFor(null).invitation.preview({ token: t.invitationToken });
    expect(preview).toEqual({
      email: t.invitation.email,
      organizationName: t.org.name,
      customerName: t.customerX.name,
      role: 'viewer',
    });
  });

  it('accept creates the user and the customer membership, and closes the invitation', async () => {
    const res = await callerFor(null).invitation.accept({ token: t.invitationToken, name: 'New Person', password: newPassword });
    expect(res).toEqual({ email: t.invitation.email });
    const user = await ownerDb().user.findUniqueOrThrow({ where: { email: t.invitation.email } });
    newUserId = user.id;
    expect(user.name).toBe('New Person');
    expect(user.passwordHash).not.toContain(newPassword);
    const memberships = await ownerDb().customerMembership.findMany({ where: { userId: user.id } });
    expect(memberships).toEqual([
      expect.objectContaining({ organizationId: t.org.id, customerId: t.customerX.id, role: 'viewer' }),
    ]);
    expect(await ownerDb().orgMembership.count({ where: { userId: user.id } })).toBe(0);
    const inv = await ownerDb().invitation.findUniqueOrThrow({ where: { id: t.invitation.id } });
    expect(inv.acceptedAt).not.toBeNull();
  });

  it('the new user signs in with the chosen password', async () => {
    expect((await signIn({ email: t.invitation.email, password: newPassword })).id).toBe(newUserId);
  });

  it('the new user sees only their customer', async () => {
    const caller = callerFor(newUserId);
    const list = await caller.customer.list();
    expect(list.map((c) => c.id)).toEqual([t.customerX.id]);
    expect(list[0]!.serverCount).toBe(1);
    expect((await caller.server.list({ customerId: t.customerX.id })).map((s) => s.id)).toEqual([t.serverX.id]);
    await expectCode(caller.customer.get({ customerId: t.customerY.id }), 'NOT_FOUND');
    await expectCode(caller.member.list(), 'FORBIDDEN');
  });

  it('workspace.list shows the customer workspace, active', async () => {
    const ws = await callerFor(newUserId).workspace.list();
    const expected = {
      key: `customer:${t.customerX.id}`,
      organizationId: t.org.id,
      organizationName: t.org.name,
      customerId: t.customerX.id,
      customerName: t.customerX.name,
      role: 'viewer',
    };
    expect(ws.user).toMatchObject({ id: newUserId, email: t.invitation.email, name: 'New Person' });
    expect(ws.workspaces).toEqual([expected]);
    expect(ws.active).toEqual(expected);
  });

  it('accepting the same link twice → CONFLICT, and nothing more is created', async () => {
    const err = await expectCode(
      callerFor(null).invitation.accept({ token: t.invitationToken, name: 'Again', password: newPassword }),
      'CONFLICT',
    );
    expect(err.message).toMatch(/already accepted/);
    await expectCode(callerFor(null).invitation.preview({ token: t.invitationToken }), 'CONFLICT');
    expect(await ownerDb().customerMembership.count({ where: { userId: newUserId } })).toBe(1);
    expect((await auditEventsOf(t.org.id)).filter((e) => e.action === 'invitation.accept')).toHaveLength(1);
  });
});

describe('links that cannot be used', () => {
  let t: Tenant;

  beforeAll(async () => {
    t = await createTenant();
  });

  it('a revoked link → CONFLICT saying so; no account is created', async () => {
    const email = uniqueEmail('revoked');
    const { invitation, link } = await callerFor(t.operator.id).invitation.create({
      kind: 'customer',
      customerId: t.customerY.id,
      email,
      role: 'approver',
    });
    const token = tokenOf(link);
    expect((await callerFor(null).invitation.preview({ token })).email).toBe(email);
    await callerFor(t.operator.id).invitation.revoke({ invitationId: invitation.id });

    const p = await expectCode(callerFor(null).invitation.preview({ token }), 'CONFLICT');
    expect(p.message).toBe('This invitation was revoked. Ask for a new one.');
    const a = await expectCode(callerFor(null).invitation.accept({ token, name: 'Too Late', password: newPassword }), 'CONFLICT');
    expect(a.message).toMatch(/revoked/);
    expect(await ownerDb().user.findUnique({ where: { email } })).toBeNull();
    expect((await callerFor(t.operator.id).invitation.list()).map((i) => i.id)).not.toContain(invitation.id);
  });

  it('an expired link → CONFLICT saying so; no account is created', async () => {
    const email = uniqueEmail('expired');
    const { token } = await createInvitation({
      organizationId: t.org.id,
      customerId: t.customerX.id,
      email,
      expiresAt: new Date(Date.now() - 60_000),
    });
    const p = await expectCode(callerFor(null).invitation.preview({ token }), 'CONFLICT');
    expect(p.message).toBe('This invitation has expired. Ask for a new one.');
    await expectCode(callerFor(null).invitation.accept({ token, name: 'Too Late', password: newPassword }), 'CONFLICT');
    expect(await ownerDb().user.findUnique({ where: { email } })).toBeNull();
  });

  it('an unknown link → NOT_FOUND; a malformed one → BAD_REQUEST; both say the link is not valid', async () => {
    const unknown = await expectCode(
      callerFor(null).invitation.preview({ token: randomUUID().replaceAll('-', '') }),
      'NOT_FOUND',
    );
    expect(unknown.message).toBe('This invitation link is not valid');
    await expectCode(callerFor(null).invitation.accept({ token: 'x'.repeat(43), name: 'N', password: newPassword }), 'NOT_FOUND');
    await expectCode(callerFor(null).invitation.preview({ token: 'short' }), 'BAD_REQUEST');
  });

  it('a new person must choose a good password and give a name; nothing is created otherwise', async () => {
    const email = uniqueEmail('weak');
    const { token, invitation } = await createInvitation({ organizationId: t.org.id, customerId: t.customerX.id, email });
    const short = await expectCode(callerFor(null).invitation.accept({ token, name: 'Weak', password: 'short' }), 'BAD_REQUEST');
    expect(short.message).toMatch(/at least 12 characters/);
    const noName = await expectCode(callerFor(null).invitation.accept({ token, password: newPassword }), 'BAD_REQUEST');
    expect(noName.message).toBe('Enter your name');
    expect(await ownerDb().user.findUnique({ where: { email } })).toBeNull();
    expect((await ownerDb().invitation.findUniqueOrThrow({ where: { id: invitation.id } })).acceptedAt).toBeNull();
  });
});

describe('accepting as a person who already has an account', () => {
  let t: Tenant;
  let existing: Awaited<ReturnType<typeof createUser>>;
  let token: string;
  let invitationId: string;

  beforeAll(async () => {
    t = await createTenant();
    existing = await createUser({ email: uniqueEmail('existing') });
    const inv = await createInvitation({
      organizationId: t.org.id,
      customerId: t.customerY.id,
      email: existing.email,
      customerRole: 'approver',
    });
    token = inv.token;
    invitationId = inv.invitation.id;
  });

  it('preview does not say whether the address has an account', async () => {
    const preview = await callerFor(null).invitation.preview({ token });
    expect(preview).toEqual({ email: existing.email, organizationName: t.org.name, customerName: t.customerY.name, role: 'approver' });
    expect(Object.keys(preview)).not.toContain('hasAccount');
  });

  it('signed out, the account password is never checked: right or wrong, the answer is "sign in", nothing changes', async () => {
    const before = await tenantSnapshot(t.org.id);
    for (const password of ['not my password at all', testPassword]) {
      const err = await expectCode(callerFor(null).invitation.accept({ token, name: 'Guesser', password }), 'CONFLICT');
      expect(err.message).toBe(`Sign in as ${existing.email} to accept this invitation`);
    }
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
    expect(await ownerDb().customerMembership.count({ where: { userId: existing.id } })).toBe(0);
  });

  it('signed in as someone else → FORBIDDEN naming the invited address; nothing changes', async () => {
    const someoneElse = await createUser({ email: uniqueEmail('someone-else') });
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(callerFor(someoneElse.id).invitation.accept({ token }), 'FORBIDDEN');
    expect(err.message).toContain(`sign in as ${existing.email} to accept it`);
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('signed in as the invited address, accepting needs no password and grants the membership; password and name stay', async () => {
    await callerFor(existing.id).invitation.accept({ token, name: 'Renamed By Link', password: 'ignored password here' });
    const m = await ownerDb().customerMembership.findMany({ where: { userId: existing.id } });
    expect(m).toEqual([expect.objectContaining({ customerId: t.customerY.id, role: 'approver' })]);
    const after = await ownerDb().user.findUniqueOrThrow({ where: { id: existing.id } });
    expect(after.passwordHash).toBe(existing.passwordHash);
    expect(after.name).toBe(existing.name);
    expect((await ownerDb().invitation.findUniqueOrThrow({ where: { id: invitationId } })).acceptedAt).not.toBeNull();
    expect((await callerFor(existing.id).customer.list()).map((c) => c.id)).toEqual([t.customerY.id]);
  });

  it('an organization invitation makes an existing, signed-in user staff', async () => {
    const person = await createUser({ email: uniqueEmail('staff') });
    const { token: orgToken } = await createInvitation({ organizationId: t.org.id, email: person.email, orgRole: 'operator' });
    expect((await callerFor(null).invitation.preview({ token: orgToken })).customerName).toBeNull();
    await callerFor(person.id).invitation.accept({ token: orgToken });
    const ws = await callerFor(person.id).workspace.list();
    expect(ws.workspaces).toEqual([expect.objectContaining({ key: `org:${t.org.id}`, role: 'operator', customerId: null })]);
    expect((await callerFor(person.id).customer.list()).length).toBe(2);
  });
});

describe('every mutation writes exactly one audit event', () => {
  interface Expected {
    actorId: string;
    actorEmail: string;
    action: string;
    targetType: string;
    targetId?: string;
    customerId?: string | null;
    summary: RegExp;
  }
  interface AuditCase {
    path: string;
    /** Preparation whose own events do not count. */
    setup?: (t: Tenant) => Promise<string>;
    run: (t: Tenant, prepared?: string) => Promise<Expected>;
  }

  const auditCases: AuditCase[] = [
    {
      path: 'customer.create',
      run: async (t) => {
        const c = await callerFor(t.owner.id).customer.create({ name: 'Audited Ltd', contactEmail: 'it@audited.test' });
        return {
          actorId: t.owner.id,
          actorEmail: t.owner.email,
          action: 'customer.create',
          targetType: 'Customer',
          targetId: c.id,
          customerId: c.id,
          summary: /Created customer "Audited Ltd"/,
        };
      },
    },
    {
      path: 'customer.update',
      run: async (t) => {
        await callerFor(t.operator.id).customer.update({ customerId: t.customerX.id, notes: 'Backups at 02:00' });
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'customer.update',
          targetType: 'Customer',
          targetId: t.customerX.id,
          customerId: t.customerX.id,
          summary: /Changed notes of customer/,
        };
      },
    },
    {
      path: 'customer.delete',
      run: async (t) => {
        await callerFor(t.owner.id).customer.delete({ customerId: t.customerY.id, confirmName: t.customerY.name });
        return {
          actorId: t.owner.id,
          actorEmail: t.owner.email,
          action: 'customer.delete',
          targetType: 'Customer',
          targetId: t.customerY.id,
          customerId: t.customerY.id,
          summary: /Deleted customer ".*" and its 1 server/,
        };
      },
    },
    {
      path: 'invitation.create',
      run: async (t) => {
        const email = uniqueEmail('audited');
        const { invitation } = await callerFor(t.operator.id).invitation.create({
          kind: 'customer',
          customerId: t.customerX.id,
          email,
          role: 'viewer',
        });
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'invitation.create',
          targetType: 'Invitation',
          targetId: invitation.id,
          customerId: t.customerX.id,
          summary: new RegExp(`Invited ${email} to customer`),
        };
      },
    },
    {
      path: 'invitation.revoke',
      run: async (t) => {
        await callerFor(t.operator.id).invitation.revoke({ invitationId: t.invitation.id });
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'invitation.revoke',
          targetType: 'Invitation',
          targetId: t.invitation.id,
          customerId: t.customerX.id,
          summary: /Revoked the invitation of/,
        };
      },
    },
    {
      path: 'invitation.accept',
      run: async (t) => {
        await callerFor(null).invitation.accept({ token: t.invitationToken, name: 'Audited Newcomer', password: newPassword });
        const user = await ownerDb().user.findUniqueOrThrow({ where: { email: t.invitation.email } });
        return {
          actorId: user.id,
          actorEmail: user.email,
          action: 'invitation.accept',
          targetType: 'Invitation',
          targetId: t.invitation.id,
          customerId: t.customerX.id,
          summary: /joined customer ".*" as viewer/,
        };
      },
    },
    {
      path: 'member.updateOrgRole',
      run: async (t) => {
        await callerFor(t.owner.id).member.updateOrgRole({ membershipId: t.viewerMembership.id, role: 'operator' });
        return {
          actorId: t.owner.id,
          actorEmail: t.owner.email,
          action: 'member.role',
          targetType: 'OrgMembership',
          targetId: t.viewerMembership.id,
          customerId: null,
          summary: /from viewer to operator/,
        };
      },
    },
    {
      path: 'member.removeOrgMember',
      run: async (t) => {
        await callerFor(t.owner.id).member.removeOrgMember({ membershipId: t.viewerMembership.id });
        return {
          actorId: t.owner.id,
          actorEmail: t.owner.email,
          action: 'member.remove',
          targetType: 'OrgMembership',
          targetId: t.viewerMembership.id,
          customerId: null,
          summary: /Removed .* \(viewer\) from the organization/,
        };
      },
    },
    {
      path: 'member.updateCustomerRole',
      run: async (t) => {
        await callerFor(t.operator.id).member.updateCustomerRole({ membershipId: t.customerMembership.id, role: 'viewer' });
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'member.role',
          targetType: 'CustomerMembership',
          targetId: t.customerMembership.id,
          customerId: t.customerX.id,
          summary: /from approver to viewer/,
        };
      },
    },
    {
      path: 'member.removeCustomerMember',
      run: async (t) => {
        await callerFor(t.operator.id).member.removeCustomerMember({ membershipId: t.customerYMembership.id });
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'member.remove',
          targetType: 'CustomerMembership',
          targetId: t.customerYMembership.id,
          customerId: t.customerY.id,
          summary: /Removed .* from customer/,
        };
      },
    },
    {
      path: 'account.totpEnable',
      run: async (t) => {
        const caller = callerFor(t.viewer.id);
        const { secret } = await caller.account.totpBegin();
        await caller.account.totpEnable({ code: totpCode(secret, Date.now()) });
        return {
          actorId: t.viewer.id,
          actorEmail: t.viewer.email,
          action: 'account.totp.enable',
          targetType: 'User',
          targetId: t.viewer.id,
          customerId: null,
          summary: /Turned on two-factor/,
        };
      },
    },
    {
      path: 'account.totpDisable',
      setup: async (t) => {
        const caller = callerFor(t.viewer.id);
        const { secret } = await caller.account.totpBegin();
        // The previous step's code, so the current one is still unused for turning it off.
        await caller.account.totpEnable({ code: totpCode(secret, Date.now() - 30_000) });
        return secret;
      },
      run: async (t, secret) => {
        await callerFor(t.viewer.id).account.totpDisable({ code: totpCode(secret!, Date.now()) });
        return {
          actorId: t.viewer.id,
          actorEmail: t.viewer.email,
          action: 'account.totp.disable',
          targetType: 'User',
          targetId: t.viewer.id,
          customerId: null,
          summary: /Turned off two-factor/,
        };
      },
    },
    {
      path: 'account.changePassword',
      // A person of its own, so no other case's sign-in depends on the old password.
      setup: async (t) => {
        const person = await createUser({ email: uniqueEmail('password') });
        await addOrgMember(t.org.id, person.id, 'viewer');
        return JSON.stringify({ id: person.id, email: person.email });
      },
      run: async (_t, prepared) => {
        const person = JSON.parse(prepared!) as { id: string; email: string };
        await callerFor(person.id).account.changePassword({ currentPassword: testPassword, newPassword: 'a new passphrase of mine' });
        return {
          actorId: person.id,
          actorEmail: person.email,
          action: 'account.password.change',
          targetType: 'User',
          targetId: person.id,
          customerId: null,
          summary: /Changed their password; 0 other sessions signed out/,
        };
      },
    },
    {
      path: 'agent.createEnrollment',
      run: async (t) => {
        const res = await callerFor(t.operator.id).agent.createEnrollment({ customerId: t.customerX.id });
        expect(res.enrollCommand).toMatch(/tandem-agent enroll --url \S+ --token=[A-Za-z0-9_-]{43}$/);
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'agent.enrollment.create',
          targetType: 'Customer',
          targetId: t.customerX.id,
          customerId: t.customerX.id,
          summary: /Created an enrolment token/,
        };
      },
    },
    {
      path: 'agent.revoke',
      setup: async (t) => {
        await ownerDb().agent.create({
          data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: t.serverX.id, status: 'offline', credentialHash: t.serverX.id },
        });
        return t.serverX.id;
      },
      run: async (t, serverId) => {
        await callerFor(t.operator.id).agent.revoke({ serverId: serverId! });
        return {
          actorId: t.operator.id,
          actorEmail: t.operator.email,
          action: 'agent.revoke',
          targetType: 'Server',
          targetId: serverId!,
          customerId: t.customerX.id,
          summary: /Revoked the agent of/,
        };
      },
    },
    {
      path: 'credential.create',
      run: async (t) => {
        const c = await callerFor(t.operator.id).credential.create({ kind: 'dns_tsig', name: 'BIND key', keyName: 'tandem.corp.test', algorithm: 'hmac-sha256', secret: 'c2VjcmV0LXZhbHVl' });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'credential.create', targetType: 'Credential', targetId: c.id, customerId: null, summary: /Created TSIG key credential "BIND key"/ };
      },
    },
    {
      path: 'credential.update',
      setup: async (t) => (await callerFor(t.operator.id).credential.create({ kind: 'domain', name: 'AD account', customerId: t.customerX.id, user: 'CORP\\dns', password: 'pw-1' })).id,
      run: async (t, id) => {
        await callerFor(t.operator.id).credential.update({ id: id!, password: 'pw-2' });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'credential.update', targetType: 'Credential', targetId: id, customerId: t.customerX.id, summary: /Updated credential "AD account" \(new password\)/ };
      },
    },
    {
      path: 'credential.remove',
      setup: async (t) => (await callerFor(t.operator.id).credential.create({ kind: 'dns_tsig', name: 'Old key', keyName: 'old.corp.test', algorithm: 'hmac-sha512', secret: 'c2VjcmV0LXZhbHVl' })).id,
      run: async (t, id) => {
        await callerFor(t.operator.id).credential.remove({ id: id! });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'credential.remove', targetType: 'Credential', targetId: id, customerId: null, summary: /Deleted credential "Old key"/ };
      },
    },
    {
      path: 'drill.create',
      run: async (t) => {
        const d = await callerFor(t.operator.id).drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 30 });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'drill.create', targetType: 'DrillSchedule', targetId: d.id, customerId: t.customerX.id, summary: /Scheduled a test failover drill of every protected pair of .* every 30 days/ };
      },
    },
    {
      path: 'drill.update',
      setup: async (t) => (await callerFor(t.operator.id).drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 30 })).id,
      run: async (t, id) => {
        await callerFor(t.operator.id).drill.update({ id: id!, everyDays: 7, enabled: false });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'drill.update', targetType: 'DrillSchedule', targetId: id, customerId: t.customerX.id, summary: /now runs every 7 days, paused/ };
      },
    },
    {
      path: 'drill.remove',
      setup: async (t) => (await callerFor(t.operator.id).drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 1 })).id,
      run: async (t, id) => {
        await callerFor(t.operator.id).drill.remove({ id: id! });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'drill.remove', targetType: 'DrillSchedule', targetId: id, customerId: t.customerX.id, summary: /Removed the drill of every protected pair of the customer \(every day\)/ };
      },
    },
    {
      path: 'validation.updateSettings',
      run: async (t) => {
        await callerFor(t.owner.id).validation.updateSettings({ validationIntervalHours: 12 });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'organization.validationSettings', targetType: 'Organization', targetId: t.org.id, customerId: null, summary: /re-validate every 24 → 12 h/ };
      },
    },

    // Alerting (alerting-api.test.ts covers the behaviour; here: one audit event each).
    {
      path: 'alert.smtp.set',
      run: async (t) => {
        await callerFor(t.owner.id).alert.smtp.set({ host: 'smtp.audited.test', port: 587, security: 'starttls', username: 'mailer', password: 'not-in-the-audit', fromAddress: 'alerts@audited.test', fromName: 'Audited' });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'alert.smtp.set', targetType: 'SmtpSettings', customerId: null, summary: /Set up the mail server smtp\.audited\.test:587/ };
      },
    },
    {
      path: 'alert.smtp.test',
      setup: async (t) => {
        await callerFor(t.owner.id).alert.smtp.set({ host: 'smtp.audited.test', port: 25, security: 'none', fromAddress: 'alerts@audited.test', fromName: 'Audited' });
        return '';
      },
      run: async (t) => {
        await callerFor(t.owner.id).alert.smtp.test({ to: 'oncall@audited.test' });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'alert.smtp.test', targetType: 'SmtpSettings', summary: /Sent a test e-mail to oncall@audited\.test through smtp\.audited\.test/ };
      },
    },
    {
      path: 'alert.channel.create',
      run: async (t) => {
        const { channel } = await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'alert.channel.create', targetType: 'AlertChannel', targetId: channel.id, summary: /Created e-mail channel "On call"/ };
      },
    },
    {
      path: 'alert.channel.update',
      setup: async (t) => (await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] })).channel.id,
      run: async (t, channelId) => {
        await callerFor(t.owner.id).alert.channel.update({ channelId: channelId!, name: 'Night shift' });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'alert.channel.update', targetType: 'AlertChannel', targetId: channelId, summary: /channel "Night shift"/ };
      },
    },
    {
      path: 'alert.channel.rotateSecret',
      setup: async (t) => (await callerFor(t.owner.id).alert.channel.create({ kind: 'webhook', name: 'Hooks', url: 'https://hooks.audited.test/tandem' })).channel.id,
      run: async (t, channelId) => {
        await callerFor(t.owner.id).alert.channel.rotateSecret({ channelId: channelId! });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'alert.channel.rotate-secret', targetType: 'AlertChannel', targetId: channelId, summary: /Rotated the signing secret of channel "Hooks"/ };
      },
    },
    {
      path: 'alert.channel.sendTest',
      setup: async (t) => (await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] })).channel.id,
      run: async (t, channelId) => {
        await callerFor(t.operator.id).alert.channel.sendTest({ channelId: channelId! });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.channel.test', targetType: 'AlertChannel', targetId: channelId, summary: /Sent a test message to channel "On call"/ };
      },
    },
    {
      path: 'alert.channel.remove',
      setup: async (t) => (await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] })).channel.id,
      run: async (t, channelId) => {
        await callerFor(t.owner.id).alert.channel.remove({ channelId: channelId! });
        return { actorId: t.owner.id, actorEmail: t.owner.email, action: 'alert.channel.remove', targetType: 'AlertChannel', targetId: channelId, summary: /Deleted channel "On call"/ };
      },
    },
    {
      path: 'alert.rule.create',
      setup: async (t) => (await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] })).channel.id,
      run: async (t, channelId) => {
        const r = await callerFor(t.operator.id).alert.rule.create({ customerId: t.customerX.id, channelId: channelId!, events: ['source.lost'] });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.rule.create', targetType: 'AlertRule', targetId: r.id, summary: /Added a rule sending source\.lost of .* to "On call"/ };
      },
    },
    {
      path: 'alert.rule.update',
      setup: async (t) => {
        const { channel } = await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] });
        return (await callerFor(t.owner.id).alert.rule.create({ customerId: null, channelId: channel.id, events: ['agent.offline'] })).id;
      },
      run: async (t, ruleId) => {
        await callerFor(t.operator.id).alert.rule.update({ ruleId: ruleId!, minSeverity: 'error' });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.rule.update', targetType: 'AlertRule', targetId: ruleId, summary: /Updated the rule for "On call" \(organization default\)/ };
      },
    },
    {
      path: 'alert.rule.remove',
      setup: async (t) => {
        const { channel } = await callerFor(t.owner.id).alert.channel.create({ kind: 'email', name: 'On call', addresses: ['oncall@audited.test'] });
        return (await callerFor(t.owner.id).alert.rule.create({ customerId: null, channelId: channel.id, events: ['agent.offline'] })).id;
      },
      run: async (t, ruleId) => {
        await callerFor(t.operator.id).alert.rule.remove({ ruleId: ruleId! });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.rule.remove', targetType: 'AlertRule', targetId: ruleId, summary: /Deleted the rule for "On call" \(organization default\)/ };
      },
    },
    {
      path: 'alert.delivery.redeliver',
      setup: async (t) => {
        const d = await ownerDb().alertDelivery.create({
          data: { organizationId: t.org.id, customerId: t.customerX.id, kind: 'email', recipient: 'oncall@audited.test', event: 'source.lost', payload: { kind: 'email', subject: 's', text: 't', html: 'h' }, status: 'failed', attempts: 3 },
        });
        return d.id;
      },
      run: async (t, deliveryId) => {
        await callerFor(t.operator.id).alert.delivery.redeliver({ deliveryId: deliveryId! });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.delivery.redeliver', targetType: 'AlertDelivery', targetId: deliveryId, customerId: t.customerX.id, summary: /Queued source\.lost for redelivery to oncall@audited\.test \(was failed\)/ };
      },
    },
    {
      path: 'alert.window.create',
      run: async (t) => {
        const w = await callerFor(t.operator.id).alert.window.create({ customerId: t.customerX.id, startsAt: new Date(Date.now() + 3600_000).toISOString(), endsAt: new Date(Date.now() + 7200_000).toISOString(), reason: 'Patching' });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.window.create', targetType: 'MaintenanceWindow', targetId: w.id, customerId: t.customerX.id, summary: /Muted alerts of .*: Patching/ };
      },
    },
    {
      path: 'alert.window.end',
      setup: async (t) =>
        (await callerFor(t.operator.id).alert.window.create({ customerId: t.customerX.id, startsAt: new Date(Date.now() + 3600_000).toISOString(), endsAt: new Date(Date.now() + 7200_000).toISOString(), reason: 'Patching' })).id,
      run: async (t, windowId) => {
        await callerFor(t.operator.id).alert.window.end({ customerId: t.customerX.id, windowId: windowId! });
        return { actorId: t.operator.id, actorEmail: t.operator.email, action: 'alert.window.end', targetType: 'MaintenanceWindow', targetId: windowId, customerId: t.customerX.id, summary: /Cancelled the maintenance window "Patching"/ };
      },
    },
  ];
  /** Mutations that deliberately write no audit event. */
  const unaudited = [
    'account.totpBegin', // stages a secret; nothing changes until totpEnable
    'approval.openLink', // only opens the request page; the answer given there is audited
  ];
  /** Mutations that need a live agent: their audit events are checked in agents.test.ts. */
  const auditedWithLiveAgents = [
    'agent.rotate',
    'server.refreshFacts',
    'pair.verify', // pair-verify.test.ts
    'pair.resend', // pair-verify.test.ts
    'pair.create', // pair-protection.test.ts, from here on
    'pair.update',
    'pair.enable',
    'pair.disable',
    'pair.setMonitoring',
    'pair.failover.preview', // failover-api.test.ts (a protected pair with agents), from here on
    'pair.failover.start',
    'pair.failback.preview',
    'pair.failback.start',
    'pair.testFailover.preview', // test-failover-api.test.ts (a protected pair with agents), from here on
    'pair.testFailover.start',
    'pair.updateTesting',
    'credential.test', // credentials.test.ts
    'cluster.snapshot', // clusters.test.ts (a cluster in the nodes' facts, an agent online), from here on
    'cluster.restore.preview',
    'cluster.restore.start',
  ];
  /** Mutations about a stored validation run (or that hand a run to the worker's queue): validation-api.test.ts checks their audit events. */
  const auditedWithValidationRuns = ['validation.start', 'validation.acknowledge', 'validation.unacknowledge', 'validation.fix', 'validation.fixAll'];
  /** Mutations about an approval request (a pending failover): approvals.test.ts checks their audit events. */
  const auditedWithApprovals = ['approval.decide', 'approval.setPolicy', 'approval.setPairPolicy'];

  it('the table covers every mutation of the router', () => {
    const mutations = allProcedurePaths().filter((p) => procedureDef(p).type === 'mutation');
    expect([...auditCases.map((c) => c.path), ...unaudited, ...auditedWithLiveAgents, ...auditedWithValidationRuns, ...auditedWithApprovals].sort()).toEqual(mutations);
  });

  it.each(auditCases)('$path', async ({ setup, run }) => {
    const t = await createTenant();
    const prepared = await setup?.(t);
    const before = new Set((await auditEventsOf(t.org.id)).map((e) => e.id));
    const expected = await run(t, prepared);
    const added = (await auditEventsOf(t.org.id)).filter((e) => !before.has(e.id));
    expect(added.map((e) => e.action)).toEqual([expected.action]);
    const ev = added[0]!;
    expect(ev).toMatchObject({ actorId: expected.actorId, action: expected.action, targetType: expected.targetType });
    if (expected.targetId !== undefined) expect(ev.targetId).toBe(expected.targetId);
    if (expected.customerId !== undefined) expect(ev.customerId).toBe(expected.customerId);
    expect(ev.actorLabel).toContain(expected.actorEmail);
    expect(ev.summary).toMatch(expected.summary);
    expect(Math.abs(ev.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('customer.update that changes nothing writes no event', async () => {
    const t = await createTenant();
    const before = await auditEventsOf(t.org.id);
    await callerFor(t.owner.id).customer.update({ customerId: t.customerX.id, name: t.customerX.name });
    expect(await auditEventsOf(t.org.id)).toEqual(before);
  });

  it('customer.update records what changed, from and to', async () => {
    const t = await createTenant();
    await callerFor(t.owner.id).customer.update({
      customerId: t.customerX.id,
      name: `${t.customerX.name} Renamed`,
      contactEmail: 'ops@x.test',
    });
    const ev = (await auditEventsOf(t.org.id)).find((e) => e.action === 'customer.update')!;
    expect(ev.changes).toEqual({
      name: { from: t.customerX.name, to: `${t.customerX.name} Renamed` },
      contactEmail: { from: null, to: 'ops@x.test' },
    });
  });

  it('a deleted customer’s history outlives it', async () => {
    const t = await createTenant();
    await callerFor(t.owner.id).customer.delete({ customerId: t.customerX.id, confirmName: t.customerX.name });
    expect(await ownerDb().customer.findUnique({ where: { id: t.customerX.id } })).toBeNull();
    expect(await ownerDb().server.findUnique({ where: { id: t.serverX.id } })).toBeNull();
    expect(await ownerDb().customerMembership.findUnique({ where: { id: t.customerMembership.id } })).toBeNull();
    const events = (await callerFor(t.owner.id).audit.list({ action: 'customer.delete' })).events;
    expect(events.map((e) => e.customerId)).toEqual([t.customerX.id]);
    expect((await auditEventsOf(t.org.id)).map((e) => e.id)).toContain(t.audit.id);
  });
});

describe('account mutations of a customer user', () => {
  it('turning on two-factor sign-in succeeds and is audited in their customer’s trail', async () => {
    const t = await createTenant();
    const caller = callerFor(t.customerUser.id);
    const { secret } = await caller.account.totpBegin();
    const before = new Set((await auditEventsOf(t.org.id)).map((e) => e.id));
    expect(await caller.account.totpEnable({ code: totpCode(secret, Date.now()) })).toEqual({ totpEnabled: true });
    const added = (await auditEventsOf(t.org.id)).filter((e) => !before.has(e.id));
    expect(added).toEqual([
      expect.objectContaining({ action: 'account.totp.enable', actorId: t.customerUser.id, customerId: t.customerX.id }),
    ]);
    const visible = await caller.audit.list({ action: 'account.' });
    expect(visible.events.map((e) => e.action)).toEqual(['account.totp.enable']);
  });
});

describe('invitation rules', () => {
  let t: Tenant;

  beforeAll(async () => {
    t = await createTenant();
  });

  it('inviting someone who is already a user of the customer → CONFLICT, nothing written', async () => {
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(
      callerFor(t.operator.id).invitation.create({
        kind: 'customer',
        customerId: t.customerX.id,
        email: t.customerUser.email.toUpperCase(),
        role: 'viewer',
      }),
      'CONFLICT',
    );
    expect(err.message).toContain('already a user of');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('inviting an existing staff member to the organization → CONFLICT', async () => {
    await expectCode(callerFor(t.owner.id).invitation.create({ kind: 'org', email: t.viewer.email, role: 'admin' }), 'CONFLICT');
  });

  it('an operator may invite to a customer but not to the organization, nor revoke an organization invitation', async () => {
    await expectCode(
      callerFor(t.operator.id).invitation.create({ kind: 'org', email: uniqueEmail('nope'), role: 'viewer' }),
      'FORBIDDEN',
    );
    const { invitation } = await callerFor(t.owner.id).invitation.create({
      kind: 'org',
      email: uniqueEmail('staff'),
      role: 'viewer',
    });
    const before = await tenantSnapshot(t.org.id);
    await expectCode(callerFor(t.operator.id).invitation.revoke({ invitationId: invitation.id }), 'FORBIDDEN');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
    const listed = await callerFor(t.operator.id).invitation.list();
    expect(listed.map((i) => i.id)).toContain(invitation.id);
  });

  it('an accepted invitation cannot be revoked → CONFLICT', async () => {
    const email = uniqueEmail('accepted');
    const { invitation, link } = await callerFor(t.operator.id).invitation.create({
      kind: 'customer',
      customerId: t.customerY.id,
      email,
      role: 'viewer',
    });
    await callerFor(null).invitation.accept({ token: tokenOf(link), name: 'Accepted Person', password: newPassword });
    await expectCode(callerFor(t.operator.id).invitation.revoke({ invitationId: invitation.id }), 'CONFLICT');
  });

  it('the link carries the token; only its hash is stored', async () => {
    const { invitation, link } = await callerFor(t.operator.id).invitation.create({
      kind: 'customer',
      customerId: t.customerX.id,
      email: uniqueEmail('hash'),
      role: 'approver',
    });
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3100\/invite\/[A-Za-z0-9_-]{20,100}$/);
    const row = await ownerDb().invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(row.tokenHash).not.toContain(tokenOf(link));
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.invitedById).toBe(t.operator.id);
  });
});

describe('audit.list', () => {
  let t: Tenant;
  let zId: string;
  const ids = (events: { id: string }[]) => events.map((e) => e.id);

  beforeAll(async () => {
    t = await createTenant();
    zId = (await callerFor(t.owner.id).customer.create({ name: `Z ${randomUUID().slice(0, 6)}` })).id;
    await callerFor(t.operator.id).customer.update({ customerId: t.customerX.id, notes: 'audit list' });
    await callerFor(t.owner.id).invitation.create({
      kind: 'customer',
      customerId: t.customerY.id,
      email: uniqueEmail('y'),
      role: 'viewer',
    });
    await callerFor(t.owner.id).invitation.create({ kind: 'org', email: uniqueEmail('org'), role: 'viewer' });
  });

  async function all(): Promise<AuditEvent[]> {
    return auditEventsOf(t.org.id);
  }

  it('without filters: the whole trail of the organization, newest first', async () => {
    const { events } = await callerFor(t.owner.id).audit.list({});
    expect(new Set(ids(events))).toEqual(new Set((await all()).map((e) => e.id)));
    const times = events.map((e) => e.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('filters by customerId', async () => {
    const { events } = await callerFor(t.owner.id).audit.list({ customerId: t.customerX.id });
    const expected = (await all()).filter((e) => e.customerId === t.customerX.id);
    expect(expected.length).toBe(2); // fixture + update
    expect(new Set(ids(events))).toEqual(new Set(ids(expected)));
  });

  it('filters by actorId', async () => {
    const { events } = await callerFor(t.owner.id).audit.list({ actorId: t.operator.id });
    expect(events.map((e) => e.action)).toEqual(['customer.update']);
    const ownerEvents = (await callerFor(t.owner.id).audit.list({ actorId: t.owner.id })).events;
    expect(ownerEvents.every((e) => e.actorId === t.owner.id)).toBe(true);
    expect(ownerEvents.length).toBe(4); // fixture, create Z, two invitations
  });

  it('filters by action (prefix), alone and combined', async () => {
    const customerEvents = (await callerFor(t.owner.id).audit.list({ action: 'customer.' })).events;
    expect(customerEvents.map((e) => e.action).sort()).toEqual(['customer.create', 'customer.update']);
    const invitations = (await callerFor(t.owner.id).audit.list({ action: 'invitation.create' })).events;
    expect(invitations).toHaveLength(2);
    const combined = (await callerFor(t.owner.id).audit.list({ action: 'invitation.create', customerId: t.customerY.id })).events;
    expect(combined).toHaveLength(1);
    expect(combined[0]!.customerId).toBe(t.customerY.id);
    expect((await callerFor(t.owner.id).audit.list({ action: 'no.such.action' })).events).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const full = (await callerFor(t.owner.id).audit.list({})).events;
    const first = await callerFor(t.owner.id).audit.list({ limit: 2 });
    expect(ids(first.events)).toEqual(ids(full.slice(0, 2)));
    expect(first.nextCursor).toBe(full[1]!.id);
    const second = await callerFor(t.owner.id).audit.list({ limit: 2, cursor: first.nextCursor! });
    expect(ids(second.events)).toEqual(ids(full.slice(2, 4)));
  });

  it('a customer user sees only their customer’s events, even unfiltered', async () => {
    const caller = callerFor(t.customerUser.id);
    const { events } = await caller.audit.list({});
    const expected = (await all()).filter((e) => e.customerId === t.customerX.id);
    expect(new Set(ids(events))).toEqual(new Set(ids(expected)));
    expect(events.some((e) => e.customerId === null || e.customerId === t.customerY.id || e.customerId === zId)).toBe(false);
    expect((await caller.audit.list({ action: 'invitation.' })).events).toEqual([]);
    expect((await caller.audit.list({ actorId: t.owner.id })).events.every((e) => e.customerId === t.customerX.id)).toBe(true);
  });

  it('a customer user’s facets name only their own customer and its events', async () => {
    const facets = await callerFor(t.customerUser.id).audit.facets();
    expect(facets.customers).toEqual([{ id: t.customerX.id, name: t.customerX.name }]);
    expect(facets.actions.sort()).toEqual(['customer.update', 'test.fixture']);
    expect(facets.actors.map((a) => a.id).sort()).toEqual([t.owner.id, t.operator.id].sort());
  });
});

describe('organization roles', () => {
  let t: Tenant;
  let admin: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    t = await createTenant();
    admin = await createUser({ email: uniqueEmail('admin') });
    await addOrgMember(t.org.id, admin.id, 'admin');
  });

  it('the last owner cannot be demoted → CONFLICT, nothing changes', async () => {
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(
      callerFor(t.owner.id).member.updateOrgRole({ membershipId: t.ownerMembership.id, role: 'admin' }),
      'CONFLICT',
    );
    expect(err.message).toMatch(/at least one owner/);
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('the last owner cannot be removed → CONFLICT, nothing changes', async () => {
    const before = await tenantSnapshot(t.org.id);
    await expectCode(callerFor(t.owner.id).member.removeOrgMember({ membershipId: t.ownerMembership.id }), 'CONFLICT');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('an admin cannot grant owner → FORBIDDEN, nothing changes', async () => {
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(
      callerFor(admin.id).member.updateOrgRole({ membershipId: t.viewerMembership.id, role: 'owner' }),
      'FORBIDDEN',
    );
    expect(err.message).toMatch(/cannot grant the owner role/);
    await expectCode(
      callerFor(admin.id).invitation.create({ kind: 'org', email: uniqueEmail('would-be-owner'), role: 'owner' }),
      'FORBIDDEN',
    );
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('an admin cannot demote or remove an owner → FORBIDDEN', async () => {
    await expectCode(
      callerFor(admin.id).member.updateOrgRole({ membershipId: t.ownerMembership.id, role: 'viewer' }),
      'FORBIDDEN',
    );
    await expectCode(callerFor(admin.id).member.removeOrgMember({ membershipId: t.ownerMembership.id }), 'FORBIDDEN');
  });

  it('an operator cannot change organization roles at all → FORBIDDEN', async () => {
    await expectCode(
      callerFor(t.operator.id).member.updateOrgRole({ membershipId: t.viewerMembership.id, role: 'operator' }),
      'FORBIDDEN',
    );
  });

  it('an admin manages up to admin', async () => {
    const res = await callerFor(admin.id).member.updateOrgRole({ membershipId: t.viewerMembership.id, role: 'admin' });
    expect(res).toEqual({ membershipId: t.viewerMembership.id, role: 'admin' });
  });

  it('with a second owner, the first may step down', async () => {
    await callerFor(t.owner.id).member.updateOrgRole({ membershipId: t.operatorMembership.id, role: 'owner' });
    const res = await callerFor(t.owner.id).member.updateOrgRole({ membershipId: t.ownerMembership.id, role: 'admin' });
    expect(res.role).toBe('admin');
    // Now the former operator is the only owner, and protected in turn.
    await expectCode(callerFor(t.operator.id).member.removeOrgMember({ membershipId: t.operatorMembership.id }), 'CONFLICT');
    expect(await ownerDb().orgMembership.count({ where: { organizationId: t.org.id, role: 'owner' } })).toBe(1);
  });

  it('two owners demoting each other at the same moment never leave the organization without an owner', async () => {
    // Each round races two transactions that each see two owners before either commits.
    for (let round = 0; round < 8; round++) {
      const org = await createTenant();
      const second = await createUser({ email: uniqueEmail('owner2') });
      const secondMembership = await addOrgMember(org.org.id, second.id, 'owner');
      await Promise.allSettled([
        callerFor(org.owner.id).member.updateOrgRole({ membershipId: secondMembership.id, role: 'viewer' }),
        callerFor(second.id).member.updateOrgRole({ membershipId: org.ownerMembership.id, role: 'viewer' }),
      ]);
      const owners = await ownerDb().orgMembership.count({ where: { organizationId: org.org.id, role: 'owner' } });
      expect(owners, `round ${round}: no owner left`).toBeGreaterThanOrEqual(1);
    }
  });

  it('a removed member loses access at once', async () => {
    const t2 = await createTenant();
    await callerFor(t2.owner.id).member.removeOrgMember({ membershipId: t2.viewerMembership.id });
    await expectCode(callerFor(t2.viewer.id).customer.list(), 'FORBIDDEN');
  });
});
