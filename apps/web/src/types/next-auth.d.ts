import 'next-auth';

declare module 'next-auth' {
  interface Session {
    user: { id: string; name?: string | null; email?: string | null };
    /** The server-side session row this cookie names (not a credential: the cookie is). */
    sessionId?: string;
  }
  interface User {
    /** Set at sign-in: the server-side session row opened for it. */
    sessionId?: string;
  }
}
