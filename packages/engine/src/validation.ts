import { z } from 'zod';
import { nameTextSchema, textSchema } from './text.ts';

// Field rules shared by the API and the forms, so both say the same thing.

export const idSchema = z.uuid({ error: 'Not a valid id' });

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'Enter a valid e-mail address' }).max(254, 'E-mail address is too long'));

export const personNameSchema = nameTextSchema('A name')
  .trim()
  .min(1, 'Enter a name')
  .max(120, 'Name is too long (120 characters at most)');

export const passwordSchema = z
  .string()
  .min(12, 'Use at least 12 characters')
  .max(200, 'Password is too long (200 characters at most)');

export const customerNameSchema = nameTextSchema('A customer name')
  .trim()
  .min(2, 'A customer name needs at least 2 characters')
  .max(120, 'Customer name is too long (120 characters at most)')
  .regex(/^[^<>]*$/, 'Customer name cannot contain < or >');

export const customerInputSchema = z.object({
  name: customerNameSchema,
  contactEmail: emailSchema.nullable().optional(),
  notes: textSchema({ multiline: true }, 'Notes').trim().max(2000, 'Notes are too long (2000 characters at most)').nullable().optional(),
});
export type CustomerInput = z.infer<typeof customerInputSchema>;

export const totpCodeSchema = z.string().trim().regex(/^\d{6}$/, 'Enter the 6-digit code from your authenticator app');

/** Turns a zod error into field path → first message, for forms and API errors. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '_';
    out[key] ??= issue.message;
  }
  return out;
}
