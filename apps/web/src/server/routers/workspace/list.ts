import { z } from 'zod';
import { listWorkspaces, resolveActor } from '../../actor';
import { authedProcedure } from '../../trpc';

export const workspaceOutput = z.object({
  key: z.string(),
  organizationId: z.string(),
  organizationName: z.string(),
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  role: z.string(),
});

/** Where the signed-in user can work (for the organization switcher), and which one is active. */
export const listWorkspacesProcedure = authedProcedure
  .output(
    z.object({
      user: z.object({ id: z.string(), name: z.string(), email: z.string() }),
      workspaces: z.array(workspaceOutput),
      active: workspaceOutput.nullable(),
    }),
  )
  .query(async ({ ctx }) => {
    const found = await listWorkspaces(ctx.userId);
    if (!found) return { user: { id: ctx.userId, name: '', email: '' }, workspaces: [], active: null };
    const actor = await resolveActor(ctx.userId, ctx.workspaceKey);
    const activeKey = actor ? (actor.kind === 'customer' ? `customer:${actor.customerId}` : `org:${actor.organizationId}`) : null;
    return {
      user: found.user,
      workspaces: found.workspaces,
      active: found.workspaces.find((w) => w.key === activeKey) ?? null,
    };
  });
