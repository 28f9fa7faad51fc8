-- Monthly reports: on the 1st the worker announces last month's report to every customer that had
-- a protection pair in it, in every tenant, which the app role cannot list (row-level security).
-- This reader names only the customers still due (no report.monthly event for the month yet, by
-- its dedupe key), so the hourly job costs nothing once the month's reports are out; their data is
-- read afterwards in each tenant's own transaction.
CREATE FUNCTION monthly_report_customers_due(month_end timestamp, month text)
  RETURNS TABLE ("organizationId" text, "customerId" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT DISTINCT p."organizationId", p."customerId" FROM "ProtectionPair" p
        WHERE p."createdAt" < month_end
          AND NOT EXISTS (SELECT 1 FROM "OutboxEvent" o WHERE o."dedupeKey" = 'report.monthly:' || p."customerId" || ':' || month)
        ORDER BY 1, 2 $$;
