// Sessions end on the server: sign-out, a TOTP change and the absolute lifetime make an old cookie
// useless. Driven through next-auth's own route handlers (the /api/auth/* endpoints), so this is
// the same configuration and callbacks the running portal uses.
import { NextRequest } from 'next/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { addOrgMember, createOrganization, createTenant, createUser, ownerDb, testPassword, type Tenant } from '@tandem/db/testing';
import { totpCode } from '@tandem/security';
import { handlers } from '@/auth';
import { sessionLifetimeMs } from '@/server/services/sessions';
import { signIn, signInLimits } from '@/server/services/sign-in';
import { auditEventsOf, callerFor, expectCode, httpCall, uniqueEmail, type HttpErrorBody } from './helpers';

const base = 'http://127.0.0.1:3100';

/** A tiny cookie jar: name → value, updated from Set-Cookie headers. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  copy() {
    const jar = new Jar();
    for (const [k, v] of this.cookies) jar.cookies.set(k, v);
    return jar;
  }
}

async function call(jar: Jar, method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
  const req = new NextRequest(`${base}${path}`, {
    method,
    headers: {
      cookie: jar.header(),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      origin: base,
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const res = await (method === 'GET' ? handlers.GET(req) : handlers.POST(req));
  jar.take(res);
  return res;
}

async function csrf(jar: Jar) {
  const res = await call(jar, 'GET', '/api/auth/csrf');
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}

/** Signs in through the credentials callback; returns the jar holding the session cookie. */
async function signInOverHttp(email: string, totp?: string) {
  const jar = new Jar();
  const csrfToken = await csrf(jar);
  await call(jar, 'POST', '/api/auth/callback/credentials', { csrfToken, email, password: testPassword, ...(totp ? { totp } : {}) });
  expect([...jar.cookies.keys()].some((k) => k.endsWith('authjs.session-token')), 'a session cookie was set').toBe(true);
  return jar;
}

/** Who the session cookie in `jar` belongs to (null: no session), read as the portal reads it. */
async function sessionUser(jar: Jar): Promise<string | null> {
  const res = await call(jar.copy(), 'GET', '/api/auth/session');
  const body = (await res.json()) as { user?: { id?: string } } | null;
  return body?.user?.id ?? null;
}

async function signOutOverHttp(jar: Jar) {
  const csrfToken = await csrf(jar);
  await call(jar, 'POST', '/api/auth/signout', { csrfToken });
}

let t: Tenant;
beforeAll(async () => {
  t = await createTenant();
});

describe('sign-out', () => {
  it('ends the session on the server: a copy of the old cookie no longer signs anyone in', async () => {
    const jar = await signInOverHttp(t.viewer.email);
    expect(await sessionUser(jar)).toBe(t.viewer.id);
    const stolen = jar.copy();
    await signOutOverHttp(jar);
    expect(await sessionUser(jar)).toBeNull();
    expect(await sessionUser(stolen)).toBeNull();
  });

  it('ends only that session: another sign-in of the same person keeps working', async () => {
    const laptop = await signInOverHttp(t.operator.email);
    const phone = await signInOverHttp(t.operator.email);
    await signOutOverHttp(laptop);
    expect(await sessionUser(laptop)).toBeNull();
    expect(await sessionUser(phone)).toBe(t.operator.id);
  });
});

describe('absolute lifetime', () => {
  it('a session ends when its time is up, however often it was refreshed', async () => {
    expect(sessionLifetimeMs).toBe(12 * 3600_000);
    const jar = await signInOverHttp(t.viewer.email);
    for (let i = 0; i < 3; i++) expect(await sessionUser(jar)).toBe(t.viewer.id);
    const rows = await ownerDb().userSession.findMany({ where: { userId: t.viewer.id, revokedAt: null, expiresAt: { gt: new Date() } } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(sessionLifetimeMs);
    // Move this person's sessions to the end of their lifetime.
    await ownerDb().userSession.updateMany({ where: { userId: t.viewer.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await sessionUser(jar)).toBeNull();
  });
});

describe('a TOTP change ends the other sessions', () => {
  it('turning two-factor on and off keeps the session that did it and ends the rest', async () => {
    const current = await signInOverHttp(t.owner.email);
    const other = await signInOverHttp(t.owner.email);
    const currentId = (await ownerDb().userSession.findFirstOrThrow({ where: { userId: t.owner.id, revokedAt: null }, orderBy: { createdAt: 'asc' } })).id;
    const caller = () => callerFor(t.owner.id, null, currentId);
    const { secret } = await caller().account.totpBegin();
    await caller().account.totpEnable({ code: totpCode(secret, Date.now()) });
    expect(await sessionUser(current)).toBe(t.owner.id);
    expect(await sessionUser(other)).toBeNull();

    const third = await signInOverHttp(t.owner.email, totpCode(secret, Date.now() + 30_000));
    expect(await sessionUser(third)).toBe(t.owner.id);
    await ownerDb().user.update({ where: { id: t.owner.id }, data: { totpLastStep: Math.floor(Date.now() / 30_000) - 10 } });
    await caller().account.totpDisable({ code: totpCode(secret, Date.now()) });
    expect(await sessionUser(current)).toBe(t.owner.id);
    expect(await sessionUser(third)).toBeNull();
  });
});

describe('a password change', () => {
  const newPassword = 'a different passphrase, 42';

  /** A person of their own (the attempt counts and passwords below must not touch the others). */
  async function person(label: string) {
    const org = await createOrganization();
    const user = await createUser({ email: uniqueEmail(label) });
    await addOrgMember(org.id, user.id, 'operator');
    return { org, user };
  }

  it('refuses a wrong current password, and those guesses count toward the sign-in limit', async () => {
    const { user } = await person('pw-wrong');
    for (let i = 0; i < signInLimits.freeFailures; i++) {
      const err = await expectCode(callerFor(user.id).account.changePassword({ currentPassword: `guess number ${i}`, newPassword }), 'BAD_REQUEST');
      expect(err.message).toMatch(/current password is not right/);
    }
    // The limit now holds for the right password here, and for sign-in itself (one count per person).
    await expectCode(callerFor(user.id).account.changePassword({ currentPassword: testPassword, newPassword }), 'TOO_MANY_REQUESTS');
    await expect(signIn({ email: user.email, password: testPassword })).rejects.toMatchObject({ reason: 'rate_limited' });
    const failures = await ownerDb().loginAttempt.count({ where: { key: `email:${user.email}`, success: false } });
    expect(failures).toBe(signInLimits.freeFailures);
    const stored = await ownerDb().user.findUniqueOrThrow({ where: { id: user.id } });
    expect(stored.passwordHash).toBe(user.passwordHash);
  });

  it('refuses a weak new password with a message on that field, and changes nothing', async () => {
    const { user } = await person('pw-weak');
    const res = await httpCall(user.id, 'account.changePassword', { currentPassword: testPassword, newPassword: 'short' });
    expect(res.status).toBe(400);
    const { error } = res.body as HttpErrorBody;
    expect(error.data.code).toBe('BAD_REQUEST');
    expect(error.data.fields).toEqual({ newPassword: 'Use at least 12 characters' });
    const same = await httpCall(user.id, 'account.changePassword', { currentPassword: testPassword, newPassword: testPassword });
    expect((same.body as HttpErrorBody).error.data.fields).toEqual({ newPassword: 'Same as the current password' });
    expect((await ownerDb().user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBe(user.passwordHash);
    expect(await signIn({ email: user.email, password: testPassword })).toMatchObject({ id: user.id });
  });

  it('the new password signs in and the old one not; other sessions end, this one stays; audited without the password', async () => {
    const { org, user } = await person('pw-change');
    const current = await signInOverHttp(user.email);
    const other = await signInOverHttp(user.email);
    const currentId = (await ownerDb().userSession.findFirstOrThrow({ where: { userId: user.id, revokedAt: null }, orderBy: { createdAt: 'asc' } })).id;
    expect(await sessionUser(other)).toBe(user.id);

    const res = await callerFor(user.id, null, currentId).account.changePassword({ currentPassword: testPassword, newPassword });
    expect(res).toEqual({ changed: true, otherSessionsEnded: 1 });
    expect(await sessionUser(current)).toBe(user.id);
    expect(await sessionUser(other)).toBeNull();

    await expect(signIn({ email: user.email, password: testPassword })).rejects.toMatchObject({ reason: 'invalid' });
    expect(await signIn({ email: user.email, password: newPassword })).toMatchObject({ id: user.id });

    const events = (await auditEventsOf(org.id)).filter((e) => e.action === 'account.password.change');
    expect(events).toHaveLength(1);
    expect(events[0]!.actorId).toBe(user.id);
    expect(JSON.stringify(events)).not.toContain(newPassword);
    expect(JSON.stringify(events)).not.toContain(testPassword);
  });
});
