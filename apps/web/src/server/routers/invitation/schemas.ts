import { z } from 'zod';

export const invitationOutput = z.object({
  id: z.string(),
  email: z.string(),
  kind: z.enum(['org', 'customer']),
  role: z.string(),
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  expiresAt: z.string(),
  createdAt: z.string(),
});

/** Invitations last a week. */
export const invitationLifetimeMs = 7 * 24 * 3600 * 1000;
