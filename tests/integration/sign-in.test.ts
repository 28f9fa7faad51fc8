// Password sign-in with attempt limiting, and two-factor (TOTP) set-up and sign-in.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, createUser, ownerDb, testPassword, type Tenant } from '@tandem/db/testing';
import { totpCode } from '@tandem/security';
import { signIn, signInLimits, SignInError } from '@/server/services/sign-in';
import { auditEventsOf, callerFor, expectCode, uniqueEmail } from './helpers';

/** The SignInError a sign-in fails with. */
async function signInError(promise: Promise<unknown>): Promise<SignInError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected the sign-in to fail').toBeInstanceOf(SignInError);
  return err as SignInError;
}

async function failTimes(email: string, n: number, now?: number) {
  for (let i = 0; i < n; i++) {
    const err = await signInError(signIn({ email, password: 'wrong password, surely' }, now));
    expect(err.reason).toBe('invalid');
  }
}

describe('password sign-in', () => {
  it('accepts the right password, whatever the case and spaces of the e-mail', async () => {
    const email = uniqueEmail('signin');
    const user = await createUser({ email });
    expect(await signIn({ email, password: testPassword })).toEqual({ id: user.id, email, name: user.name });
    expect((await signIn({ email: `  ${email.toUpperCase()} `, password: testPassword })).id).toBe(user.id);
  });

  it('refuses a wrong password, an unknown e-mail and malformed input with the same vague reason', async () => {
    const email = uniqueEmail('signin');
    await createUser({ email });
    for (const input of [
      { email, password: 'not the password' },
      { email: uniqueEmail('nobody'), password: testPassword },
      { email: 'not an e-mail', password: testPassword },
      { email, password: '' },
      { email, password: 42 },
      { email: null, password: null },
    ]) {
      const err = await signInError(signIn(input));
      expect(err.reason, JSON.stringify(input)).toBe('invalid');
      expect(err.code).toBe('UNAUTHORIZED');
      expect(err.message).toBe('Wrong e-mail or password');
    }
  });
});

describe('attempt limiting', () => {
  it(`after ${signInLimits.freeFailures} failures even the right password is refused, with a wait`, async () => {
    const email = uniqueEmail('limited');
    await createUser({ email });
    await failTimes(email, signInLimits.freeFailures);
    const err = await signInError(signIn({ email, password: testPassword }));
    expect(err.reason).toBe('rate_limited');
    expect(err.code).toBe('TOO_MANY_REQUESTS');
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(signInLimits.baseLockMs / 1000);
    expect(err.message).toContain(`${err.retryAfterSeconds} seconds`);
  });

  it('four failures are still free', async () => {
    const email = uniqueEmail('four');
    const user = await createUser({ email });
    await failTimes(email, signInLimits.freeFailures - 1);
    expect((await signIn({ email, password: testPassword })).id).toBe(user.id);
  });

  it('does not affect another e-mail address', async () => {
    const locked = uniqueEmail('locked');
    const bystanderEmail = uniqueEmail('bystander');
    await createUser({ email: locked });
    const bystander = await createUser({ email: bystanderEmail });
    await failTimes(locked, signInLimits.freeFailures);
    expect((await signInError(signIn({ email: locked, password: testPassword }))).reason).toBe('rate_limited');
    expect((await signIn({ email: bystanderEmail, password: testPassword })).id).toBe(bystander.id);
  });

  it('lets the right password in once the lock has passed; the success clears the count', async () => {
    const email = uniqueEmail('later');
    const user = await createUser({ email });
    await failTimes(email, signInLimits.freeFailures);
    const locked = await signInError(signIn({ email, password: testPassword }));
    expect(locked.reason).toBe('rate_limited');

    const later = Date.now() + (locked.retryAfterSeconds! + 1) * 1000;
    expect((await signIn({ email, password: testPassword }, later)).id).toBe(user.id);
    // Counting starts again from the success: one more failure is not locked.
    expect((await signInError(signIn({ email, password: 'wrong again' }, later))).reason).toBe('invalid');
    expect((await signIn({ email, password: testPassword }, later)).id).toBe(user.id);
  });

  it('each further failure doubles the wait', async () => {
    const email = uniqueEmail('doubling');
    await createUser({ email });
    await failTimes(email, signInLimits.freeFailures);
    const afterFirstLock = Date.now() + signInLimits.baseLockMs + 1000;
    // The lock has passed: a wrong password is an ordinary failure, and the next lock is twice as long.
    await failTimes(email, 1, afterFirstLock);
    const err = await signInError(signIn({ email, password: testPassword }, afterFirstLock));
    expect(err.reason).toBe('rate_limited');
    // 2 × 30 s from the last failure, asked at the moment of that failure: 60 s left.
    expect(err.retryAfterSeconds).toBeGreaterThan(55);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('failures older than the window are forgotten', async () => {
    const email = uniqueEmail('window');
    const user = await createUser({ email });
    await failTimes(email, signInLimits.freeFailures);
    const afterWindow = Date.now() + signInLimits.windowMs + 1000;
    expect((await signIn({ email, password: testPassword }, afterWindow)).id).toBe(user.id);
  });

  it('concurrent wrong attempts cannot get more than the free ones checked', async () => {
    const email = uniqueEmail('burst');
    await createUser({ email });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => signIn({ email, password: `guess number ${i}` })));
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as SignInError).reason : 'signed in'));
    expect(reasons).not.toContain('signed in');
    // Every "invalid" is a password that was actually tried; past the free ones they must be refused unchecked.
    expect(reasons.filter((r) => r === 'invalid').length).toBeLessThanOrEqual(signInLimits.freeFailures);
    expect(reasons.filter((r) => r === 'rate_limited').length).toBeGreaterThanOrEqual(20 - signInLimits.freeFailures);
  });

  it('records every attempt under the normalized e-mail', async () => {
    const email = uniqueEmail('recorded');
    await createUser({ email });
    await failTimes(email.toUpperCase(), 2);
    await signIn({ email, password: testPassword });
    const rows = await ownerDb().loginAttempt.findMany({ where: { key: `email:${email}` }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => r.success)).toEqual([false, false, true]);
    // Stored timestamps are the real time (no time-zone shift): within a minute of now.
    for (const r of rows) expect(Math.abs(r.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
  });
});

describe('two-factor sign-in (TOTP)', () => {
  let t: Tenant;
  let email: string;
  let secret: string;

  /** A well-formed code that is wrong now (not the code of the previous, current or next step). */
  function wrongCode(at: number) {
    const valid = new Set([-1, 0, 1].map((d) => totpCode(secret, at + d * 30_000)));
    let n = Number(totpCode(secret, at));
    let code: string;
    do {
      n = (n + 1) % 1_000_000;
      code = String(n).padStart(6, '0');
    } while (valid.has(code));
    return code;
  }

  beforeAll(async () => {
    t = await createTenant();
    email = t.operator.email;
  });

  it('set-up: totpBegin gives a secret; a wrong code does not turn it on', async () => {
    const caller = callerFor(t.operator.id);
    const begun = await caller.account.totpBegin();
    secret = begun.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(begun.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(begun.uri).toContain(`secret=${secret}`);

    const err = await expectCode(caller.account.totpEnable({ code: wrongCode(Date.now()) }), 'BAD_REQUEST');
    expect(err.message).toMatch(/does not match/);
    expect((await caller.account.me()).totpEnabled).toBe(false);
    // Not on yet: the password alone still signs in.
    expect((await signIn({ email, password: testPassword })).id).toBe(t.operator.id);
  });

  it('set-up: totpEnable with the right code turns it on and records it in the audit trail', async () => {
    const caller = callerFor(t.operator.id);
    expect(await caller.account.totpEnable({ code: totpCode(secret, Date.now()) })).toEqual({ totpEnabled: true });
    expect((await caller.account.me()).totpEnabled).toBe(true);
    const events = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'account.totp.enable');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: t.operator.id, targetType: 'User', targetId: t.operator.id });
  });

  it('stores the secret sealed, never in plain text', async () => {
    const row = await ownerDb().user.findUniqueOrThrow({ where: { id: t.operator.id } });
    expect(row.totpEnabledAt).not.toBeNull();
    expect(row.totpSecretEnc).toBeTruthy();
    expect(row.totpSecretEnc).not.toContain(secret);
    expect(row.totpSecretEnc).not.toContain(secret.toLowerCase());
    expect(row.totpSecretEnc).not.toContain(Buffer.from(secret).toString('base64'));
    expect(row.totpSecretEnc).toMatch(/^v1\./);
  });

  it('cannot begin again while it is on (the secret is not replaced)', async () => {
    const before = (await ownerDb().user.findUniqueOrThrow({ where: { id: t.operator.id } })).totpSecretEnc;
    await expectCode(callerFor(t.operator.id).account.totpBegin(), 'CONFLICT');
    expect((await ownerDb().user.findUniqueOrThrow({ where: { id: t.operator.id } })).totpSecretEnc).toBe(before);
  });

  it('sign-in without a code → totp_required', async () => {
    const err = await signInError(signIn({ email, password: testPassword }));
    expect(err.reason).toBe('totp_required');
    expect((await signInError(signIn({ email, password: testPassword, totp: '   ' }))).reason).toBe('totp_required');
  });

  it('sign-in with a wrong code → totp_invalid', async () => {
    const now = Date.now();
    expect((await signInError(signIn({ email, password: testPassword, totp: wrongCode(now) }, now))).reason).toBe('totp_invalid');
    expect((await signInError(signIn({ email, password: testPassword, totp: 'abcdef' }, now))).reason).toBe('totp_invalid');
  });

  it('sign-in with the right code succeeds once; a used or old code does not', async () => {
    const now = Date.now();
    // The code that turned TOTP on was this step's; the next step's code is fresh.
    const fresh = totpCode(secret, now + 30_000);
    expect((await signIn({ email, password: testPassword, totp: fresh }, now)).id).toBe(t.operator.id);
    // The same code again (a replay) is refused, as is the enabling step's code.
    expect((await signInError(signIn({ email, password: testPassword, totp: fresh }, now))).reason).toBe('totp_invalid');
    expect((await signInError(signIn({ email, password: testPassword, totp: totpCode(secret, now) }, now))).reason).toBe('totp_invalid');
    const stale = totpCode(secret, now - 10 * 60_000);
    if (![-1, 0, 1].some((d) => totpCode(secret, now + d * 30_000) === stale)) {
      expect((await signInError(signIn({ email, password: testPassword, totp: stale }, now))).reason).toBe('totp_invalid');
    }
  });

  it('a wrong password with a right code is still just "invalid"', async () => {
    const now = Date.now();
    expect((await signInError(signIn({ email, password: 'not it', totp: totpCode(secret, now) }, now))).reason).toBe('invalid');
  });

  it('turning it off needs a valid code, then the password alone works again', async () => {
    const caller = callerFor(t.operator.id);
    await expectCode(caller.account.totpDisable({ code: wrongCode(Date.now()) }), 'BAD_REQUEST');
    // The codes used above are spent (see the next describe); say the last one was a while ago.
    await ownerDb().user.update({ where: { id: t.operator.id }, data: { totpLastStep: Math.floor(Date.now() / 30_000) - 10 } });
    expect(await caller.account.totpDisable({ code: totpCode(secret, Date.now()) })).toEqual({ totpEnabled: false });
    const row = await ownerDb().user.findUniqueOrThrow({ where: { id: t.operator.id } });
    expect(row).toMatchObject({ totpEnabledAt: null, totpSecretEnc: null });
    expect((await signIn({ email, password: testPassword })).id).toBe(t.operator.id);
  });
});

describe('turning two-factor off (account.totpDisable)', () => {
  let t: Tenant;
  let secret: string;
  const key = () => `totp-disable:${t.owner.id}`;

  beforeAll(async () => {
    t = await createTenant();
    const caller = callerFor(t.owner.id);
    secret = (await caller.account.totpBegin()).secret;
    await caller.account.totpEnable({ code: totpCode(secret, Date.now()) });
  });

  it('refuses a code already used (the one that turned it on); it stays on', async () => {
    const caller = callerFor(t.owner.id);
    const err = await expectCode(caller.account.totpDisable({ code: totpCode(secret, Date.now()) }), 'BAD_REQUEST');
    expect(err.message).toMatch(/already used/);
    expect((await caller.account.me()).totpEnabled).toBe(true);
  });

  it(`is limited like sign-in: after ${signInLimits.freeFailures} wrong codes even a right one must wait`, async () => {
    const caller = callerFor(t.owner.id);
    await ownerDb().loginAttempt.deleteMany({ where: { key: key() } });
    const now = Date.now();
    const valid = new Set([-1, 0, 1, 2].map((d) => totpCode(secret, now + d * 30_000)));
    const wrong = ['000000', '111111', '222222', '333333', '444444', '555555', '666666'].filter((c) => !valid.has(c));
    for (let i = 0; i < signInLimits.freeFailures; i++) {
      await expectCode(caller.account.totpDisable({ code: wrong[i]! }), 'BAD_REQUEST');
    }
    const err = await expectCode(caller.account.totpDisable({ code: totpCode(secret, now + 30_000) }), 'TOO_MANY_REQUESTS');
    expect(err.message).toMatch(/Try again in \d+ seconds/);
    expect((await caller.account.me()).totpEnabled).toBe(true);
    const rows = await ownerDb().loginAttempt.findMany({ where: { key: key() } });
    expect(rows.filter((r) => !r.success)).toHaveLength(signInLimits.freeFailures);
  });

  it('once the wait is over, a fresh code turns it off', async () => {
    // The wait is over: the failures are outside the window.
    await ownerDb().loginAttempt.updateMany({ where: { key: key() }, data: { createdAt: new Date(Date.now() - signInLimits.windowMs - 1000) } });
    const caller = callerFor(t.owner.id);
    expect(await caller.account.totpDisable({ code: totpCode(secret, Date.now() + 30_000) })).toEqual({ totpEnabled: false });
    expect((await caller.account.me()).totpEnabled).toBe(false);
  });
});
