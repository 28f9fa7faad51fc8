import { z } from 'zod';
import { publicProcedure } from '../../trpc';
import { withOpenInvitation } from './find';

export const invitationTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'This invitation link is not valid');

/**
 * What the person holding the link is invited to (public: the link is the credential). It does not
 * say whether the address has an account: anyone who may invite could otherwise probe addresses.
 */
export const previewInvitation = publicProcedure
  .input(z.object({ token: invitationTokenSchema }))
  .output(
    z.object({
      email: z.string(),
      organizationName: z.string(),
      customerName: z.string().nullable(),
      role: z.string(),
    }),
  )
  .query(async ({ input }) =>
    withOpenInvitation(input.token, (_tx, inv) =>
      Promise.resolve({
        email: inv.email,
        organizationName: inv.organizationName,
        customerName: inv.customerName,
        role: (inv.orgRole ?? inv.customerRole)!,
      }),
    ),
  );
