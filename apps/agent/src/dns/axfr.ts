// Zone transfer (AXFR, RFC 5936) over TCP, for discovering a zone's records. Servers in order
// like the rest of the client: the next one only when a server cannot be reached, does not answer
// in time or drops the connection; a refusal (REFUSED, NOTAUTH) or a signature that fails is final.
// With a TSIG key the whole stream is checked (TsigStreamVerifier: first and last message signed,
// every signed message verified, at most 99 unsigned in a row between them).
import crypto from 'node:crypto';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { type z } from 'zod';
import {
  clientOptionsSchema,
  DnsRcodeError,
  DnsUnreachableError,
  dnsNameSchema,
  type dnsServerSchema,
  label,
  parse,
  rcodeOf,
  toAnswer,
  type ClientOptions,
  type DnsAnswer,
} from './client.ts';
import { signRequest, TsigStreamVerifier } from './tsig.ts';
import { OPCODE, TYPE, encodeHeader, encodeQuestion, u16 } from './wire.ts';

export type TransferResult = {
  server: string;
  skipped: { server: string; reason: string }[];
  /** Every record of the zone we can read (A, AAAA, CNAME, MX, PTR, SOA), the closing SOA left out. */
  answers: DnsAnswer[];
  /** Messages the server sent, and how many of them carried a verified TSIG. */
  messages: number;
  signedMessages: number;
};

class NoAnswer extends Error {}

export function encodeAxfr(id: number, zone: string): Buffer {
  const z0 = parse(dnsNameSchema, zone, 'zone name');
  return Buffer.concat([encodeHeader({ id, opcode: OPCODE.QUERY, qd: 1, an: 0, ns: 0, ar: 0 }), encodeQuestion(z0, TYPE.AXFR)]);
}

/** One transfer from one server: resolves with the answers, rejects NoAnswer (try the next) or a final error. */
function transferFrom(
  server: z.output<typeof dnsServerSchema>,
  zone: string,
  request: Buffer,
  verifier: TsigStreamVerifier | null,
  deadline: number,
  now: () => number,
): Promise<{ answers: DnsAnswer[]; messages: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    const answers: DnsAnswer[] = [];
    let buffered = Buffer.alloc(0);
    let messages = 0;
    let records = 0;
    let settled = false;
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve({ answers, messages });
    };
    const timer = setTimeout(
      () =>
        done(
          new NoAnswer(
            messages === 0 ? 'did not answer over TCP within the deadline' : 'the zone transfer did not finish within the deadline',
          ),
        ),
      Math.max(0, deadline - Date.now()),
    );
    const onMessage = (message: Buffer): boolean => {
      messages++;
      // A wrong key makes the server answer NOTAUTH with a TSIG error: the verifier names it.
      verifier?.next(message, now() / 1000);
      const rcode = rcodeOf(message);
      if (rcode !== 'NOERROR') {
        const why =
          rcode === 'REFUSED' || rcode === 'NOTAUTH' ? ': the server does not allow this transfer (allow-transfer)' : '';
        throw new DnsRcodeError(
          rcode,
          label(server),
          `the DNS server ${label(server)} refused the transfer of zone "${zone}" (${rcode}${why})`,
        );
      }
      for (const a of dnsPacket.decode(message).answers ?? []) {
        records++;
        if (a.type === 'SOA' && records > 1) return true; // the closing SOA ends the transfer
        if (records === 1 && a.type !== 'SOA')
          throw new Error(`the transfer of zone "${zone}" from ${label(server)} does not start with its SOA`);
        const answer = toAnswer(a);
        if (answer) answers.push(answer);
      }
      return false;
    };
    socket.on('error', (err) => done(new NoAnswer(err.message)));
    socket.on('connect', () => socket.write(Buffer.concat([u16(request.length), request])));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
          buffered = buffered.subarray(2 + message.length);
          if (onMessage(message)) {
            verifier?.finish();
            done(null);
            return;
          }
        }
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('end', () =>
      done(
        new NoAnswer(
          messages === 0
            ? 'the server closed the TCP connection without an answer'
            : 'the server closed the connection before the zone transfer ended',
        ),
      ),
    );
  });
}

/** Transfers `zone` (AXFR over TCP) from the first server that answers. */
export async function transfer(options: ClientOptions, zone: string): Promise<TransferResult> {
  const opts = parse(clientOptionsSchema, options, 'DNS client options');
  const z0 = parse(dnsNameSchema, zone, 'zone name');
  const now = options.now ?? Date.now;
  const skipped: { server: string; reason: string }[] = [];
  for (const server of opts.servers) {
    const unsigned = encodeAxfr(crypto.randomInt(0, 65536), z0);
    const signed = opts.key ? signRequest(unsigned, opts.key, now() / 1000) : null;
    const verifier = signed && opts.key ? new TsigStreamVerifier(opts.key, signed.mac) : null;
    try {
      const got = await transferFrom(server, z0, signed ? signed.message : unsigned, verifier, Date.now() + opts.timeoutMs, now);
      return {
        server: label(server),
        skipped,
        answers: got.answers,
        messages: got.messages,
        signedMessages: verifier?.signed ?? 0,
      };
    } catch (err) {
      if (err instanceof NoAnswer) {
        skipped.push({ server: label(server), reason: err.message });
        continue;
      }
      throw err;
    }
  }
  throw new DnsUnreachableError(skipped);
}
