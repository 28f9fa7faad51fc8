import NextAuth, { CredentialsSignin } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
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
  session: { strategy: 'jwt', maxAge: 12 * 3600 },
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
          return await checkSignIn({ email: credentials.email, password: credentials.password, totp: credentials.totp });
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
    jwt({ token, user }) {
      if (user?.id) token.uid = user.id;
      return token;
    },
    session({ session, token }) {
      if (typeof token.uid === 'string') session.user.id = token.uid;
      return session;
    },
  },
});
