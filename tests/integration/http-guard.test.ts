// Mutations over HTTP accept only JSON from the portal's own origin, through the same handler as
// the Next.js route /api/trpc. The probe this answers: a same-site page posting an input-less
// mutation (account.totpBegin) as multipart/form-data with the user's cookie.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { handleTrpcRequest } from '@/server/http';
import { httpCall } from './helpers';

const appOrigin = 'http://127.0.0.1:3100';
let t: Tenant;

beforeAll(async () => {
  t = await createTenant();
});

/** Posts to a procedure as the given user, with whatever headers and body the test chooses. */
async function post(path: string, headers: Record<string, string>, body: BodyInit | null) {
  const req = new Request(`${appOrigin}/api/trpc/${path}`, { method: 'POST', headers, body });
  const res = await handleTrpcRequest(req, () => ({ userId: t.viewer.id, workspaceKey: null, origin: appOrigin }));
  return { status: res.status, body: (await res.json()) as { error?: { message: string; data: { code: string } } } };
}

const secretOf = async () => (await ownerDb().user.findUniqueOrThrow({ where: { id: t.viewer.id } })).totpSecretEnc;

describe('mutations accept JSON only', () => {
  it('multipart/form-data → 415; nothing runs', async () => {
    const form = new FormData();
    form.set('x', '1');
    const res = await post('account.totpBegin', { origin: appOrigin }, form);
    expect(res.status).toBe(415);
    expect(res.body.error?.data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await secretOf()).toBeNull();
  });

  it('application/x-www-form-urlencoded and text/plain → 415; nothing runs', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
      const res = await post('account.totpBegin', { origin: appOrigin, 'content-type': type }, 'a=1');
      expect(res.status, type).toBe(415);
    }
    expect(await secretOf()).toBeNull();
  });
});

describe('mutations check Origin', () => {
  it.each([
    ['another site', 'https://evil.example'],
    ['a same-site page on another port', 'http://127.0.0.1:3999'],
    ['the literal null origin (sandboxed frame)', 'null'],
  ])('%s → 403; nothing runs', async (_label, origin) => {
    const res = await post('account.totpBegin', { origin, 'content-type': 'application/json' }, 'null');
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toMatch(/Origin does not match/);
    expect(await secretOf()).toBeNull();
  });

  it('no Origin at all → 403', async () => {
    const res = await post('account.totpBegin', { 'content-type': 'application/json' }, 'null');
    expect(res.status).toBe(403);
    expect(await secretOf()).toBeNull();
  });

  it('JSON from the app’s own origin runs (the portal’s own requests)', async () => {
    const res = await post('account.totpBegin', { origin: appOrigin, 'content-type': 'application/json; charset=utf-8' }, 'null');
    expect(res.status).toBe(200);
    expect(await secretOf()).not.toBeNull();
  });

  it('queries (GET) need neither', async () => {
    const res = await httpCall(t.viewer.id, 'account.me');
    expect(res.status).toBe(200);
  });
});
