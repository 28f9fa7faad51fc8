import { z } from 'zod';
import { orgProcedure } from '../../trpc';

const person = z.object({ id: z.string(), name: z.string(), email: z.string(), totpEnabled: z.boolean() });

export const listMembersOutput = z.object({
  staff: z.array(z.object({ membershipId: z.string(), role: z.enum(['owner', 'admin', 'operator', 'viewer']), user: person, since: z.string() })),
  customerUsers: z.array(
    z.object({
      membershipId: z.string(),
      role: z.enum(['approver', 'viewer']),
      customerId: z.string(),
      customerName: z.string(),
      user: person,
      since: z.string(),
    }),
  ),
});

const userSelect = { id: true, name: true, email: true, totpEnabledAt: true } as const;
const toPerson = (u: { id: string; name: string; email: string; totpEnabledAt: Date | null }) => ({
  id: u.id,
  name: u.name,
  email: u.email,
  totpEnabled: u.totpEnabledAt !== null,
});

/** The people of the organization: MSP staff and every customer's users. */
export const listMembers = orgProcedure('viewer')
  .output(listMembersOutput)
  .query(async ({ ctx }) => {
    const staff = await ctx.db.orgMembership.findMany({
      include: { user: { select: userSelect } },
      orderBy: { createdAt: 'asc' },
    });
    const customerUsers = await ctx.db.customerMembership.findMany({
      include: { user: { select: userSelect }, customer: { select: { name: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return {
      staff: staff.map((m) => ({ membershipId: m.id, role: m.role, user: toPerson(m.user), since: m.createdAt.toISOString() })),
      customerUsers: customerUsers.map((m) => ({
        membershipId: m.id,
        role: m.role,
        customerId: m.customerId,
        customerName: m.customer.name,
        user: toPerson(m.user),
        since: m.createdAt.toISOString(),
      })),
    };
  });
