-- Server-side record of each sign-in, so a session can be ended (sign-out, TOTP or password
-- change) and has an absolute lifetime, whatever its cookie says.
CREATE TABLE "UserSession" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "UserSession_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "UserSession_userId_idx" ON "UserSession"("userId");

ALTER TABLE "UserSession" ADD CONSTRAINT "UserSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A user's sessions are theirs alone: read, opened and revoked only while acting as that user.
ALTER TABLE "UserSession" ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_sessions ON "UserSession"
  USING ("userId" = app_user_id())
  WITH CHECK ("userId" = app_user_id());
