-- Scheduled validation: pairs to validate again, in every tenant. A pair is due when its last
-- run is older than its organization's interval, or when an agent of its servers reconnected
-- (the gateway sets validationDueAt a little ahead, so a flapping agent asks once). Only pairs
-- validated before and idle (configurable or protected) are taken; the worker creates each run
-- in the pair's own tenant scope.
CREATE FUNCTION validations_due(at timestamp)
  RETURNS TABLE ("pairId" text, "organizationId" text, "customerId" text, "trigger" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT p.id, p."organizationId", p."customerId",
               CASE WHEN p."validationDueAt" IS NOT NULL AND p."validationDueAt" <= at THEN 'reconnect' ELSE 'scheduled' END
        FROM "ProtectionPair" p
        JOIN "Organization" o ON o.id = p."organizationId"
        JOIN "ValidationRun" r ON r.id = p."lastValidationRunId"
        WHERE p.status IN ('unprotected', 'validated', 'protected')
          AND ((p."validationDueAt" IS NOT NULL AND p."validationDueAt" <= at)
               OR COALESCE(r."finishedAt", r."startedAt") <= at - make_interval(hours => o."validationIntervalHours"))
          AND NOT EXISTS (SELECT 1 FROM "Operation" op
                          WHERE op."pairId" = p.id AND op.status IN ('pending', 'running', 'awaiting_approval'))
        ORDER BY COALESCE(r."finishedAt", r."startedAt") $$;
