-- Row-level security: the database's own guard of tenant isolation.
-- The application sets, per transaction (set_config(..., true)):
--   app.org_id       the organization it acts in
--   app.user_id      the signed-in user
--   app.customer_id  set only for customer users: limits them to that one customer
-- The app connects as a role without BYPASSRLS; the owner (migrations, seed) is not subject to it.

CREATE FUNCTION app_org_id() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.org_id', true), '') $$;
CREATE FUNCTION app_user_id() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.user_id', true), '') $$;
CREATE FUNCTION app_customer_id() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.customer_id', true), '') $$;
CREATE FUNCTION app_invite_token_hash() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.invite_token_hash', true), '') $$;

ALTER TABLE "CustomerMembership" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "CustomerMembership"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Server" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Server"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Agent" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Agent"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "EnrollmentToken" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "EnrollmentToken"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "ProtectionPair" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ProtectionPair"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "ValidationRun" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ValidationRun"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Finding" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Finding"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Operation" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Operation"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "OperationStep" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "OperationStep"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Approval" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Approval"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "ReplicationSample" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ReplicationSample"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Invitation" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Invitation"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "Credential" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Credential"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "AlertRule" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "AlertRule"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "AuditEvent" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "AuditEvent"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "OrgMembership" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "OrgMembership"
  USING ("organizationId" = app_org_id() AND app_customer_id() IS NULL)
  WITH CHECK ("organizationId" = app_org_id() AND app_customer_id() IS NULL);

ALTER TABLE "AlertChannel" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "AlertChannel"
  USING ("organizationId" = app_org_id() AND app_customer_id() IS NULL)
  WITH CHECK ("organizationId" = app_org_id() AND app_customer_id() IS NULL);

ALTER TABLE "AlertDelivery" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "AlertDelivery"
  USING ("organizationId" = app_org_id() AND app_customer_id() IS NULL)
  WITH CHECK ("organizationId" = app_org_id() AND app_customer_id() IS NULL);

-- A user always sees their own memberships (to list the organizations they can switch to).
CREATE POLICY own_memberships ON "OrgMembership" FOR SELECT USING ("userId" = app_user_id());
CREATE POLICY own_memberships ON "CustomerMembership" FOR SELECT USING ("userId" = app_user_id());

-- Whoever holds an invitation link may read and accept that one invitation.
CREATE POLICY invitation_by_token ON "Invitation" FOR SELECT USING ("tokenHash" = app_invite_token_hash());
CREATE POLICY invitation_accept ON "Invitation" FOR UPDATE
  USING ("tokenHash" = app_invite_token_hash()) WITH CHECK ("tokenHash" = app_invite_token_hash());

ALTER TABLE "Customer" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Customer"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR id = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND app_customer_id() IS NULL);

ALTER TABLE "Organization" ENABLE ROW LEVEL SECURITY;
CREATE POLICY member_read ON "Organization" FOR SELECT USING (
  id = app_org_id()
  OR EXISTS (SELECT 1 FROM "OrgMembership" m WHERE m."organizationId" = "Organization".id AND m."userId" = app_user_id())
  OR EXISTS (SELECT 1 FROM "CustomerMembership" m WHERE m."organizationId" = "Organization".id AND m."userId" = app_user_id())
);
CREATE POLICY staff_update ON "Organization" FOR UPDATE
  USING (id = app_org_id() AND app_customer_id() IS NULL)
  WITH CHECK (id = app_org_id() AND app_customer_id() IS NULL);

-- Users are global; a tenant sees only itself and the people who belong to the organization
-- (customer users: only the people of their own customer).
ALTER TABLE "User" ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible_users ON "User" FOR SELECT USING (
  id = app_user_id()
  OR EXISTS (SELECT 1 FROM "OrgMembership" m WHERE m."userId" = "User".id AND m."organizationId" = app_org_id())
  OR EXISTS (SELECT 1 FROM "CustomerMembership" m WHERE m."userId" = "User".id AND m."organizationId" = app_org_id())
);
CREATE POLICY sign_up ON "User" FOR INSERT WITH CHECK (true);
CREATE POLICY own_profile ON "User" FOR UPDATE USING (id = app_user_id()) WITH CHECK (id = app_user_id());

-- Sign-in looks a user up by e-mail before any tenant is known. This narrow function is the only
-- way around the policy above; it runs with the owner's rights.
CREATE FUNCTION auth_user_by_email(lookup_email text)
  RETURNS TABLE (id text, email text, name text, "passwordHash" text, "totpSecretEnc" text, "totpEnabledAt" timestamp)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT u.id, u.email, u.name, u."passwordHash", u."totpSecretEnc", u."totpEnabledAt"
        FROM "User" u WHERE u.email = lower(lookup_email) $$;

-- Audit events are append-only, whoever asks.
CREATE FUNCTION audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AuditEvent is append-only';
END $$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_is_append_only();
