-- Credential rotation that cannot lock an agent out: the new credential's hash is stored as
-- pending before the agent is told, so both work until the rotation commits (or the agent
-- connects with the new one, which the gateway then promotes). A commit that fails after the
-- agent saved its new credential leaves it able to connect.
ALTER TABLE "Agent" ADD COLUMN "pendingCredentialHash" TEXT;
CREATE UNIQUE INDEX "Agent_pendingCredentialHash_key" ON "Agent"("pendingCredentialHash");

DROP FUNCTION agent_by_credential(text);

CREATE FUNCTION agent_by_credential(credential_hash text)
  RETURNS TABLE (id text, "organizationId" text, "customerId" text, "serverId" text, status text, "revokedAt" timestamp, pending boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT a.id, a."organizationId", a."customerId", a."serverId", a.status::text, a."revokedAt",
               a."credentialHash" IS DISTINCT FROM credential_hash
        FROM "Agent" a WHERE a."credentialHash" = credential_hash OR a."pendingCredentialHash" = credential_hash $$;
