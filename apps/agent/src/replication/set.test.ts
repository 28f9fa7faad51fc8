// Replication-set rules (set.ts): glob syntax, last-matching-rule-wins, recursive rules, the pruning
// shortcut, and validateSet's checks against this machine.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globToRegExp, matches, prunable, type ReplicationRule, validateSet } from './set.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-set-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rule = (pattern: string, include: boolean, recursive = false): ReplicationRule => ({ pattern, include, recursive });

describe('globToRegExp', () => {
  const cases: [string, string, boolean][] = [
    ['*.log', 'a.log', true],
    ['*.log', 'dir/a.log', false], // * never crosses /
    ['**/*.log', 'a.log', true], // **/ also matches nothing
    ['**/*.log', 'x/y/a.log', true],
    ['logs/**', 'logs/a/b', true],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['[abc].txt', 'b.txt', true],
    ['[!abc].txt', 'b.txt', false],
    ['[!abc].txt', 'd.txt', true],
    ['{x,y}.bin', 'y.bin', true],
    ['{x,y}.bin', 'z.bin', false],
    ['a.b', 'axb', false], // dots are literal
    ['(x)+', '(x)+', true], // regexp characters are literal
    ['ünï/*', 'ünï/日本語', true],
  ];
  it.each(cases)('%s against %s → %s', (glob, p, want) => {
    expect(globToRegExp(glob).test(p)).toBe(want);
  });
});

describe('matches', () => {
  it('includes a path no rule matches', () => {
    expect(matches([], 'anything/at/all')).toBe(true);
    expect(matches([rule('*.tmp', false)], 'keep.txt')).toBe(true);
  });

  it('lets the last matching rule win', () => {
    const rules = [rule('**', false, true), rule('data/**', true)];
    expect(matches(rules, 'data/x')).toBe(true);
    expect(matches(rules, 'other/x')).toBe(false);
    expect(matches([rule('data/**', true), rule('**', false, true)], 'data/x')).toBe(false);
  });

  it('a recursive rule covers everything below a matching directory; a non-recursive one only the path', () => {
    expect(matches([rule('logs', false, true)], 'logs')).toBe(false);
    expect(matches([rule('logs', false, true)], 'logs/a/b.txt')).toBe(false);
    expect(matches([rule('logs', false)], 'logs')).toBe(false);
    expect(matches([rule('logs', false)], 'logs/a/b.txt')).toBe(true);
    expect(matches([rule('logs', false, true)], 'logsx/a')).toBe(true);
  });
});

describe('prunable', () => {
  it('prunes a subtree excluded recursively when no later include could bring a descendant back', () => {
    expect(prunable([rule('cache', false, true)], 'cache')).toBe(true);
    expect(prunable([rule('cache', false, true)], 'other')).toBe(false);
    expect(prunable([rule('cache', false, true), rule('cache/keep', true)], 'cache')).toBe(false);
    expect(prunable([rule('cache', false)], 'cache')).toBe(false);
  });

  it('never prunes what matches() would include', () => {
    const sets = [[rule('a', false, true)], [rule('a', false, true), rule('a/b/**', true)], [rule('**', false, true), rule('a/b', true, true)]];
    for (const rules of sets) {
      for (const p of ['a', 'a/b', 'a/b/c', 'b']) {
        if (prunable(rules, p)) expect(matches(rules, p + '/x')).toBe(false);
      }
    }
  });
});

describe('validateSet', () => {
  it('accepts existing directories', () => {
    mkdirSync(path.join(dir, 'r1'));
    expect(validateSet({ roots: [path.join(dir, 'r1')], rules: [] })).toMatchObject({ ok: true });
  });

  it('names every problem: missing root, a file, a duplicate, a root inside another, an empty set', () => {
    writeFileSync(path.join(dir, 'file'), 'x');
    mkdirSync(path.join(dir, 'r2/inner'), { recursive: true });
    const r = validateSet({
      roots: [path.join(dir, 'nope'), path.join(dir, 'file'), path.join(dir, 'r2'), path.join(dir, 'r2') + '/', path.join(dir, 'r2/inner')],
      rules: [rule('**', false, true)],
    });
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors;
    expect(errors.some((e) => e.includes('does not exist'))).toBe(true);
    expect(errors.some((e) => e.includes('is not a directory'))).toBe(true);
    expect(errors.some((e) => e.includes('listed twice'))).toBe(true);
    expect(errors.some((e) => e.includes('is inside root'))).toBe(true);
    expect(errors.some((e) => e.includes('the set is empty'))).toBe(true);
  });

  it('refuses a malformed set with a readable message instead of throwing', () => {
    const r = validateSet({ roots: 'not a list' });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).not.toEqual([]);
  });
});
