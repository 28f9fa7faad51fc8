import { z } from 'zod';
import { readMonthlyReport, readReportMonths } from '@tandem/db';
import { AppError, monthOf, notFound, reportMonthSchema } from '@tandem/engine';
import { customerProcedure } from '../../trpc';
import { monthlyReportOutput } from './schemas';

// MSP staff, and the customer's own approvers and viewers, read the reports.

/** One customer's report for a month (a month still under way runs up to now). */
export const monthlyReport = customerProcedure({ customerRoles: ['approver', 'viewer'] })
  .input(z.object({ month: reportMonthSchema }))
  .output(monthlyReportOutput)
  .query(async ({ ctx, input }) => {
    const now = new Date();
    if (input.month > monthOf(now)) throw new AppError('BAD_REQUEST', 'That month has not begun yet');
    const report = await readMonthlyReport(ctx.db, ctx.customer.id, input.month, now);
    if (!report) throw notFound('Customer');
    return report;
  });

/** The months there is a report for, newest first. */
export const reportMonths = customerProcedure({ customerRoles: ['approver', 'viewer'] })
  .output(z.array(z.string()))
  .query(({ ctx }) => readReportMonths(ctx.db, ctx.customer.id, new Date()));
