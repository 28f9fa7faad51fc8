// Following the link from an approval e-mail. The link names a request and the one person it was
// sent to; it works once and until the request's deadline. It grants nothing by itself: the
// signed-in user must be that person, and the approval page then checks access like any page.
import { z } from 'zod';
import { appDb, withTenant, withUser } from '@tandem/db';
import { AppError } from '@tandem/engine';
import { sha256Hex } from '@tandem/security';
import { authedProcedure } from '../../trpc';

interface LinkRow {
  linkId: string;
  organizationId: string;
  customerId: string;
  approvalId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
}

const invalid = () => new AppError('NOT_FOUND', 'This approval link is not valid. Open the request from Approvals in the portal instead.');

export const openApprovalLink = authedProcedure
  .input(z.object({ token: z.string().min(20).max(200) }))
  .output(z.object({ approvalId: z.string(), customerId: z.string(), workspaceKey: z.string().nullable() }))
  .mutation(async ({ ctx, input }) => {
    // SECURITY DEFINER lookup by the token's hash, before any tenant is known.
    const [link] = await appDb().$queryRaw<LinkRow[]>`SELECT * FROM approval_link_lookup(${sha256Hex(input.token)})`;
    if (!link) throw invalid();
    if (link.userId !== ctx.userId) throw new AppError('FORBIDDEN', 'This approval link was sent to someone else. Sign in as the person who received the e-mail.');
    if (link.usedAt) throw new AppError('CONFLICT', 'This approval link was already used. Open the request from Approvals in the portal.');
    if (link.expiresAt.getTime() <= Date.now()) throw new AppError('CONFLICT', 'This approval link has expired (the request’s deadline has passed).');
    // Which of the user's workspaces reaches the request: the customer's (a customer user) or the organization's (staff).
    const workspaces = await withUser(ctx.userId, async (tx) => ({
      staff: await tx.orgMembership.findFirst({ where: { userId: ctx.userId, organizationId: link.organizationId }, select: { id: true } }),
      customer: await tx.customerMembership.findFirst({ where: { userId: ctx.userId, customerId: link.customerId }, select: { id: true } }),
    }));
    const workspaceKey = workspaces.staff ? `org:${link.organizationId}` : workspaces.customer ? `customer:${link.customerId}` : null;
    if (!workspaceKey) throw new AppError('FORBIDDEN', 'Your account no longer has access to this request.');
    const used = await withTenant({ organizationId: link.organizationId, customerId: workspaces.staff ? null : link.customerId, userId: ctx.userId }, (tx) =>
      tx.approvalLink.updateMany({ where: { id: link.linkId, userId: ctx.userId, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } }),
    );
    if (used.count === 0) throw new AppError('CONFLICT', 'This approval link was already used. Open the request from Approvals in the portal.');
    return { approvalId: link.approvalId, customerId: link.customerId, workspaceKey };
  });
