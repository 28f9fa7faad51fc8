-- A customer user may read the customer they belong to before a tenant is chosen (to list the
-- places they can work, as the organization switcher does).
CREATE POLICY member_read ON "Customer" FOR SELECT USING (
  EXISTS (SELECT 1 FROM "CustomerMembership" m WHERE m."customerId" = "Customer".id AND m."userId" = app_user_id())
);
