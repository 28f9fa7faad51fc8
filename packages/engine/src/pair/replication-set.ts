import { z } from 'zod';
import { textSchema } from '../text.ts';

// A file pair's replication set: which directories on the source are protected. The agent
// applies the rules (apps/agent/src/replication/set.ts); the control plane edits and checks them.

/** Absolute on either platform: `/srv/data`, `\\share\\x`, `C:\\data`, `C:/data`. */
export const absolutePathSchema = (message = 'must be an absolute path') =>
  textSchema({}, 'A path')
    .min(1)
    .max(4096)
    .refine((p) => /^([/\\]|[A-Za-z]:[/\\])/.test(p), message)
    .refine((p) => !p.includes('\0'), 'paths cannot contain NUL');

/** One include/exclude rule (relative to every root; the last matching rule wins). */
export const replicationRuleSchema = z.object({
  pattern: textSchema({}, 'A rule pattern')
    .min(1, 'a rule needs a pattern')
    .max(1024)
    .refine((p) => !p.startsWith('/'), 'rule patterns are relative to the root (no leading /)')
    .refine((p) => !p.includes('\0'), 'rule patterns cannot contain NUL')
    .refine((p) => !p.split('/').includes('..'), 'rule patterns cannot contain ..'),
  include: z.boolean(),
  recursive: z.boolean(),
});
export type ReplicationRule = z.infer<typeof replicationRuleSchema>;

/** Absolute roots on the source plus rules. */
export const replicationSetSchema = z.object({
  roots: z
    .array(absolutePathSchema('each root must be an absolute path'))
    .min(1, 'a replication set needs at least one root')
    .max(64)
    .refine((roots) => new Set(roots).size === roots.length, 'each root may appear only once'),
  rules: z.array(replicationRuleSchema).max(1000).default([]),
});
export type ReplicationSet = z.infer<typeof replicationSetSchema>;
