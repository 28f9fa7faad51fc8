// A replication set says WHAT a file pair protects: one or more absolute roots on the source, and
// include/exclude rules evaluated against each path relative to its root. It is generated per
// application by the control plane and editable by the user, so it arrives as untrusted JSON:
// the zod schema checks its shape, validateSet() checks it against the source machine (roots exist
// and are directories, the set is not empty) and returns readable messages instead of throwing.
//
// Rule semantics (documented for the portal):
// - `pattern` is a posix glob relative to the root: `*` any run of characters except `/`, `**` any
//   run including `/` (`**/` also matches nothing), `?` one character except `/`, `[abc]`/`[!a-z]`
//   a character class, `{a,b}` alternatives. Paths never start with `/` or `./`.
// - `recursive: true` makes the rule also cover everything below a matching directory
//   (`{pattern: 'logs', include: false, recursive: true}` drops `logs` and all it contains);
//   `recursive: false` covers exactly the matching paths.
// - The LAST matching rule wins; a path no rule matches is included.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { replicationRuleSchema, replicationSetSchema } from '@tandem/protocol';
import { type z } from 'zod';

// The schemas live in the protocol package: the control plane sends sets in `replication.start`.
export { replicationRuleSchema, replicationSetSchema };

export type ReplicationRule = z.infer<typeof replicationRuleSchema>;
export type ReplicationSet = z.infer<typeof replicationSetSchema>;

const globCache = new Map<string, RegExp>();

/** Translates a posix glob into an anchored RegExp (see the header for the syntax). */
export function globToRegExp(glob: string): RegExp {
  const cached = globCache.get(glob);
  if (cached) return cached;
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\/]/g, '\\$&');
  }
  const out = new RegExp('^' + re + '$', 'u');
  globCache.set(glob, out);
  return out;
}

function ruleMatches(rule: ReplicationRule, relPath: string): boolean {
  const re = globToRegExp(rule.pattern);
  if (re.test(relPath)) return true;
  if (!rule.recursive) return false;
  // A recursive rule covers the descendants of any ancestor it matches.
  for (let i = relPath.indexOf('/'); i >= 0; i = relPath.indexOf('/', i + 1)) {
    if (re.test(relPath.slice(0, i))) return true;
  }
  return false;
}

/** Whether a path (relative to its root, posix separators) belongs to the set: last matching rule wins, default include. */
export function matches(rules: readonly ReplicationRule[], relPath: string): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (ruleMatches(rule, relPath)) return rule.include;
  }
  return true;
}

/**
 * Whether a walk may skip the whole subtree under `relDir`: it is excluded by a recursive rule and
 * no later include rule could bring a descendant back. Pure optimisation; matches() stays the truth.
 */
export function prunable(rules: readonly ReplicationRule[], relDir: string): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (rule.include) return false;
    if (rule.recursive && ruleMatches(rule, relDir)) return true;
  }
  return false;
}

export type SetValidation = { ok: true; set: ReplicationSet } | { ok: false; errors: string[] };

/** Parses and checks a set against this machine: shape, roots exist and are directories, nothing duplicated. */
export function validateSet(input: unknown): SetValidation {
  const parsed = replicationSetSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join('.') || 'set'}: ${i.message}`) };
  }
  const set = parsed.data;
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const root of set.roots) {
    const norm = path.resolve(root);
    if (seen.has(norm)) errors.push(`root ${root} is listed twice`);
    seen.add(norm);
    try {
      const st = lstatSync(root);
      if (!st.isDirectory()) errors.push(`root ${root} is not a directory`);
    } catch (err) {
      errors.push(`root ${root} does not exist on the source (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  for (const a of seen) {
    for (const b of seen) {
      if (a !== b && b.startsWith(a.endsWith(path.sep) ? a : a + path.sep)) errors.push(`root ${b} is inside root ${a}`);
    }
  }
  const last = set.rules.at(-1);
  if (set.rules.length > 0 && !set.rules.some((r) => r.include) && last && ['**', '*'].includes(last.pattern) && last.recursive) {
    errors.push('the rules exclude everything: the set is empty');
  }
  return errors.length ? { ok: false, errors } : { ok: true, set };
}
