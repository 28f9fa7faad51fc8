-- The gateway meets an agent before it knows the tenant: it has only the agent's credential (or,
-- at enrolment, a one-time token). These two narrow functions, run with the owner's rights, are
-- the only way around row-level security for that first step; everything after it runs scoped.

CREATE FUNCTION agent_by_credential(credential_hash text)
  RETURNS TABLE (id text, "organizationId" text, "customerId" text, "serverId" text, status text, "revokedAt" timestamp)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT a.id, a."organizationId", a."customerId", a."serverId", a.status::text, a."revokedAt"
        FROM "Agent" a WHERE a."credentialHash" = credential_hash $$;

CREATE FUNCTION enrollment_token_by_hash(token_hash text)
  RETURNS TABLE (id text, "organizationId" text, "customerId" text, "expiresAt" timestamp, "usedAt" timestamp)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT t.id, t."organizationId", t."customerId", t."expiresAt", t."usedAt"
        FROM "EnrollmentToken" t WHERE t."tokenHash" = token_hash $$;

-- A gateway that dies cannot mark its agents offline; the worker's sweep does, for every tenant.
CREATE FUNCTION mark_stale_agents_offline(silent_for interval)
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ WITH changed AS (
          UPDATE "Agent" SET status = 'offline', "updatedAt" = now()
          WHERE status = 'online' AND ("lastSeenAt" IS NULL OR "lastSeenAt" < now() - silent_for)
          RETURNING 1)
        SELECT count(*)::integer FROM changed $$;
