import { describe, expect, it } from 'vitest';
import { findUnstorableText, likeLiteral, nameTextSchema, textProblem, textSchema } from './text.ts';

describe('text rules', () => {
  it('accepts ordinary text, accents, emoji (surrogate pairs) and, in multi-line text, tabs and newlines', () => {
    expect(textProblem('Café 🚀 Müller')).toBeNull();
    expect(textProblem('a\tb\r\nc', { multiline: true })).toBeNull();
    expect(nameTextSchema().safeParse('Ünïcode 名前 🚀').success).toBe(true);
  });

  it('refuses NUL, other C0/C1 controls and DEL; one-line text also refuses tab and newline', () => {
    for (const bad of ['a\u0000b', 'a\u001bb', 'a\u007fb', 'a\u0085b']) {
      expect(textProblem(bad, { multiline: true }), JSON.stringify(bad)).toMatch(/control characters/);
    }
    expect(textProblem('a\nb')).toMatch(/control characters/);
    expect(textProblem('a\tb')).toMatch(/control characters/);
  });

  it('refuses lone surrogates, high or low', () => {
    expect(textProblem('x\ud800')).toMatch(/lone surrogate/);
    expect(textProblem('\udc00x')).toMatch(/lone surrogate/);
    expect(textProblem('\ud83d\ude80')).toBeNull();
  });

  it('names refuse bidi embeddings, overrides and isolates; other text does not care', () => {
    for (const c of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(nameTextSchema('The name').safeParse(`a${c}b`).error?.issues[0]?.message).toBe('The name cannot contain text-direction control characters');
      expect(textSchema().safeParse(`a${c}b`).success).toBe(true);
    }
  });

  it('findUnstorableText names the path of the first NUL or lone surrogate, keys included', () => {
    expect(findUnstorableText({ a: ['ok', { b: 'x\u0000' }] })).toEqual({ path: ['a', 1, 'b'] });
    expect(findUnstorableText({ ['k\ud800']: 1 })).toEqual({ path: ['k\ud800'] });
    expect(findUnstorableText({ a: 'fine\n', n: 1, z: null })).toBeNull();
  });

  it('likeLiteral escapes the LIKE wildcards and the escape character', () => {
    expect(likeLiteral('100% of a_b\\c')).toBe('100\\% of a\\_b\\\\c');
    expect(likeLiteral('plain')).toBe('plain');
  });
});
