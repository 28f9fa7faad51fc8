-- Prisma's schema engine cannot read CHECK constraints back (its drift check crashes on them), so
-- the allowed values of these columns are kept by the application's zod schemas instead.
ALTER TABLE "ApprovalVote" DROP CONSTRAINT "ApprovalVote_side_check", DROP CONSTRAINT "ApprovalVote_decision_check";
ALTER TABLE "MaintenanceWindow" DROP CONSTRAINT "MaintenanceWindow_order_check";
ALTER TABLE "SmtpSettings" DROP CONSTRAINT "SmtpSettings_security_check";
