import { createRouter } from '../../trpc';
import { monthlyReport, reportMonths } from './monthly';

export const reportRouter = createRouter({ monthly: monthlyReport, months: reportMonths });
