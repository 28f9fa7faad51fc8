-- Online agents on the target of any pair, in every tenant: the worker asks each for its test
-- failover copies (test.copy-list) and removes those whose operation is finished or unknown, so a
-- copy left by a worker that died mid-test does not stay. Every read and write after it is
-- tenant-scoped (the agent's own organization and customer).
CREATE FUNCTION test_copy_agents()
  RETURNS TABLE ("agentId" text, "organizationId" text, "customerId" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT DISTINCT a.id, a."organizationId", a."customerId"
        FROM "Agent" a
        JOIN "ProtectionPair" p ON p."targetServerId" = a."serverId"
        WHERE a.status = 'online' AND a."revokedAt" IS NULL $$;
