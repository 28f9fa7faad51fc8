// A real SMTP server (smtp-server) on 127.0.0.1 for e-mail tests: it accepts every message
// (optionally requiring a login), parses it with mailparser and keeps it for the test to read.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { freePort } from './ports.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string | undefined;
  headers: Map<string, unknown>;
  attachments: { filename: string | undefined; contentType: string; content: Buffer }[];
  receivedAt: number;
}

export interface MailServer {
  host: string;
  port: number;
  /** The login it requires (null: none). */
  auth: { user: string; pass: string } | null;
  messages: ReceivedMail[];
  /** Waits for a message that matches (default: any), up to timeoutMs. */
  waitFor: (match?: (m: ReceivedMail) => boolean, timeoutMs?: number) => Promise<ReceivedMail>;
  stop: () => Promise<void>;
}

export async function startMailServer(opts: { auth?: { user: string; pass: string } } = {}): Promise<MailServer> {
  const messages: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const auth = opts.auth ?? null;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.pass) cb(null, { user: a.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            messageId: parsed.messageId,
            headers: parsed.headers,
            attachments: parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
            receivedAt: Date.now(),
          });
          for (const w of waiters.splice(0)) w();
          cb();
        })
        .catch((err: Error) => cb(err));
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  async function waitFor(match: (m: ReceivedMail) => boolean = () => true, timeoutMs = 30_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching e-mail within ${timeoutMs} ms (received: ${messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join(' | ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  return {
    host: '127.0.0.1',
    port,
    auth,
    messages,
    waitFor,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
