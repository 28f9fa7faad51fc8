import NextAuth, { CredentialsSignin } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import { openSession, revokeSession, sessionIsLive, sessionLifetimeMs } from './server/services/sessions';
import { signIn as checkSignIn, SignInError } from './server/services/sign-in';

/** Tells the sign-in form why it failed (the code travels to the browser; the reason stays vague). */
class TandemSignInError extends CredentialsSignin {
  constructor(code: string) {
    super();
    this.code = code;
  }
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  trustHost: true,
  // The cookie's own expiry; the server-side session row (services/sessions.ts) is what counts.
  session: { strategy: 'jwt', maxAge: sessionLifetimeMs / 1000 },
  pages: { signIn: '/sign-in' },
  logger: {
    // A refused sign-in is routine (and recorded for rate limiting); do not log it as an error.
    error(error) {
      if ((error as { type?: string }).type === 'CredentialsSignin') return;
      console.error('[auth]', error);
    },
  },
  providers: [
    Credentials({
      credentials: { email: {}, password: {}, totp: {} },
      async authorize(credentials) {
        try {
          const user = await checkSignIn({ email: credentials.email, password: credentials.password, totp: credentials.totp });
          return { ...user, sessionId: await openSession(user.id) };
        } catch (err) {
          if (err instanceof SignInError) {
            throw new TandemSignInError(err.reason === 'rate_limited' ? `rate_limited:${err.retryAfterSeconds}` : err.reason);
          }
          throw err;
        }
      },
    }),
  ],
  callbacks: {
    // Runs whenever a session is read (auth(), /api/auth/session): a revoked or expired session
    // (or a token from before sessions were recorded) yields null, which also clears the cookie.
    async jwt({ token, user }) {
      if (user?.id) {
        token.uid = user.id;
        token.sid = user.sessionId;
        return token;
      }
      if (typeof token.uid !== 'string' || typeof token.sid !== 'string') return null;
      return (await sessionIsLive(token.uid, token.sid)) ? token : null;
    },
    session({ session, token }) {
      if (typeof token.uid === 'string') session.user.id = token.uid;
      if (typeof token.sid === 'string') session.sessionId = token.sid;
      return session;
    },
  },
  events: {
    // Sign-out ends the session on the server too, so a copy of the cookie stops working.
    async signOut(message) {
      const token = 'token' in message ? message.token : null;
      if (typeof token?.uid === 'string' && typeof token.sid === 'string') await revokeSession(token.uid, token.sid);
    },
  },
});
