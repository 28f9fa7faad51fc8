import { describe, expect, it } from 'vitest';
import { catalogueIds } from './ids.ts';
import { catalogue } from './registry.ts';
import { fixActionSchema } from './actions.ts';
import { scopes } from './model.ts';
import { snapshotFixture } from './fixtures.ts';
import { evaluateChecks } from './evaluate.ts';

// Nothing in the catalogue document is silently left out, and nothing is made up beside it
// (tests/integration/catalogue-document.test.ts compares ids.ts with the document itself).

describe('the check registry', () => {
  it('holds exactly the 186 ids of the catalogue, once each', () => {
    const ids = catalogue.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...catalogueIds].sort());
    expect(ids).toHaveLength(186);
  });

  it('gives every check a family matching its id, a scope, facts, and a fix a person can read', () => {
    for (const c of catalogue) {
      expect(c.id.split('.')[0], c.id).toBe(c.family);
      expect(c.scope.length, c.id).toBeGreaterThan(0);
      expect(c.scope.every((s) => scopes.includes(s)), c.id).toBe(true);
      expect(c.title.length, c.id).toBeGreaterThan(3);
      expect(c.detects.length, c.id).toBeGreaterThan(10);
      if (c.fix.kind === 'manual') expect(c.fix.guidance.length, c.id).toBeGreaterThan(10);
      else expect(c.fix.phase, c.id).toBeGreaterThanOrEqual(1);
    }
  });

  it('finds nothing wrong with the healthy fixture, and every plan it could make is valid data', () => {
    const results = evaluateChecks(catalogue, snapshotFixture());
    const fired = results.filter((r) => r.status !== 'good' && r.status !== 'unknown');
    expect(fired.map((r) => `${r.checkId}/${r.side}`)).toEqual([]);
    for (const r of results) for (const f of r.findings) for (const a of f.plan ?? []) expect(fixActionSchema.safeParse(a).success).toBe(true);
  });
});
