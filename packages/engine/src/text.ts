import { z } from 'zod';

// Text that people type. PostgreSQL cannot store NUL or a lone UTF-16 surrogate (the request
// would fail deep inside the database), and control characters in names only confuse whoever
// reads them later, so they are refused here with a readable message.

/** C0 controls (NUL included), DEL and C1 controls, except tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlInText = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** The same plus tab, line feed and carriage return: for one-line values such as names. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlInLine = /[\u0000-\u001F\u007F-\u009F]/;
/** Bidirectional embeddings, overrides and isolates: they make a name read differently than it is. */
const bidiControl = /[\u202A-\u202E\u2066-\u2069]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface TextRules {
  /** Allow tab, line feed and carriage return (notes, scripts). Default false. */
  multiline?: boolean;
  /** Also refuse bidi override/isolate characters (names). Default false. */
  noBidi?: boolean;
}

/** Why a text cannot be accepted, or null when it can. */
export function textProblem(value: string, rules: TextRules = {}): string | null {
  if (loneSurrogate.test(value)) return 'contains an invalid character (a lone surrogate)';
  if ((rules.multiline ? controlInText : controlInLine).test(value)) return 'cannot contain control characters';
  if (rules.noBidi && bidiControl.test(value)) return 'cannot contain text-direction control characters';
  return null;
}

/** A string that refuses control characters and lone surrogates (and, with `noBidi`, bidi controls). */
export function textSchema(rules: TextRules = {}, what = 'This text') {
  return z.string().check((ctx) => {
    const problem = textProblem(ctx.value, rules);
    if (problem) ctx.issues.push({ code: 'custom', message: `${what} ${problem}`, input: ctx.value });
  });
}

/** A one-line name: no control characters, no bidi controls. */
export const nameTextSchema = (what = 'The name') => textSchema({ noBidi: true }, what);

/**
 * Finds the first string in a parsed JSON value that no text field could ever store (NUL or a
 * lone surrogate), with its path. A safety net for inputs whose schema is a plain string.
 */
export function findUnstorableText(value: unknown, path: (string | number)[] = []): { path: (string | number)[] } | null {
  if (typeof value === 'string') {
    return value.includes('\u0000') || loneSurrogate.test(value) ? { path } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const keyProblem = key.includes('\u0000') || loneSurrogate.test(key);
      if (keyProblem) return { path: [...path, key] };
      const found = findUnstorableText(inner, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Makes a search text match literally inside a LIKE pattern (Prisma's contains / startsWith /
 * endsWith pass it on unescaped): `%`, `_` and the escape character itself lose their meaning.
 */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
