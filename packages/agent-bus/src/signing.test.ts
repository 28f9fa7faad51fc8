import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ORDER_MAX_SKEW_MS, OrderVerifier, signOrder } from './signing.ts';

const key = randomBytes(32).toString('base64');
const order = { kind: 'disconnect', agentId: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f', code: 4403, reason: 'r' };

describe('signed orders', () => {
  it('verifies a signed order once and gives back its content', () => {
    const v = new OrderVerifier(key);
    const raw = signOrder(key, order, 1_000_000);
    expect(v.verify(raw, 1_000_000)).toEqual({ ok: true, order });
    expect(v.verify(raw, 1_000_001)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('refuses unsigned, wrongly keyed, altered and out-of-window orders', () => {
    const v = new OrderVerifier(key);
    const now = 5_000_000;
    expect(v.verify(JSON.stringify(order), now).ok).toBe(false);
    expect(v.verify('not json', now).ok).toBe(false);
    expect(v.verify(signOrder(randomBytes(32).toString('base64'), order, now), now)).toEqual({ ok: false, reason: 'bad signature' });
    const altered = JSON.parse(signOrder(key, order, now)) as { body: string; ts: number };
    expect(v.verify(JSON.stringify({ ...altered, body: altered.body.replace('"r"', '"x"') }), now)).toEqual({ ok: false, reason: 'bad signature' });
    expect(v.verify(JSON.stringify({ ...altered, ts: altered.ts + 1 }), now)).toEqual({ ok: false, reason: 'bad signature' });
    expect(v.verify(signOrder(key, order, now - ORDER_MAX_SKEW_MS - 1), now).ok).toBe(false);
    expect(v.verify(signOrder(key, order, now + ORDER_MAX_SKEW_MS + 1), now).ok).toBe(false);
    expect(v.verify(signOrder(key, order, now - ORDER_MAX_SKEW_MS), now).ok).toBe(true);
  });
});
