// TSIG (RFC 8945): sign a request with a shared key and check the server's signed reply.
// dns-packet cannot express the TSIG record, so it is built and read here with Buffer.
// Time is an argument (seconds since the epoch) so tests can pin it.
import crypto from 'node:crypto';
import { z } from 'zod';
import { CLASS, TYPE, encodeName, readName, u16, walkRecords } from './wire.ts';

export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

const HASH: Record<TsigAlgorithm, string> = { 'hmac-sha256': 'sha256', 'hmac-sha512': 'sha512', 'hmac-sha1': 'sha1' };

export const tsigKeySchema = z.object({
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, 'a key name is dot-separated labels of letters, digits, "-" and "_"'),
  algorithm: z.enum(TSIG_ALGORITHMS),
  secret: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'the secret is base64')
    .refine((s) => Buffer.from(s, 'base64').length >= 16, 'the secret is shorter than 16 bytes'),
});
export type TsigKey = z.infer<typeof tsigKeySchema>;

function parseKey(key: TsigKey): TsigKey {
  const parsed = tsigKeySchema.safeParse(key);
  if (!parsed.success) throw new Error(`Invalid TSIG key: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** TSIG error codes (RFC 8945 §5.3) and the client-side failures that mean the same to a caller. */
export type TsigErrorCode = 'BADSIG' | 'BADKEY' | 'BADTIME' | 'BADTRUNC' | 'UNSIGNED' | 'KEY_MISMATCH' | 'MALFORMED';

const TSIG_RCODES: Record<number, TsigErrorCode> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

export class TsigError extends Error {
  constructor(
    readonly code: TsigErrorCode,
    /** "server": the server refused our signature; "reply": the reply failed our check. */
    readonly side: 'server' | 'reply',
    message: string,
  ) {
    super(message);
    this.name = 'TsigError';
  }
}

export const DEFAULT_FUDGE_SECONDS = 300;

function u48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

/** The TSIG variables (RFC 8945 §4.3.3) that follow the message in the MAC input. */
function tsigVariables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  const ttlAndClass = Buffer.alloc(6);
  ttlAndClass.writeUInt16BE(CLASS.ANY, 0);
  ttlAndClass.writeUInt32BE(0, 2);
  return Buffer.concat([
    encodeName(key.name, true),
    ttlAndClass,
    encodeName(key.algorithm, true),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = crypto.createHmac(HASH[key.algorithm], Buffer.from(key.secret, 'base64'));
  for (const p of parts) h.update(p);
  return h.digest();
}

export type SignedRequest = { message: Buffer; mac: Buffer };

/**
 * Appends a TSIG record to a complete, unsigned message (its ID is the "original ID").
 * Returns the signed message and the request MAC, which the reply's MAC covers.
 */
export function signRequest(message: Buffer, key: TsigKey, nowSeconds: number, fudge = DEFAULT_FUDGE_SECONDS): SignedRequest {
  const k = parseKey(key);
  const time = Math.floor(nowSeconds);
  const mac = hmac(k, message, tsigVariables(k, time, fudge, 0, Buffer.alloc(0)));
  const signed = Buffer.concat([message, tsigRecord(k, time, fudge, mac, message.readUInt16BE(0), 0, Buffer.alloc(0))]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

function tsigRecord(
  key: TsigKey,
  time: number,
  fudge: number,
  mac: Buffer,
  originalId: number,
  error: number,
  other: Buffer,
): Buffer {
  const rdata = Buffer.concat([
    encodeName(key.algorithm, true),
    u48(time),
    u16(fudge),
    u16(mac.length),
    mac,
    u16(originalId),
    u16(error),
    u16(other.length),
    other,
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE.TSIG, 0);
  fixed.writeUInt16BE(CLASS.ANY, 2);
  fixed.writeUInt32BE(0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(key.name, true), fixed, rdata]);
}

export type ParsedTsig = {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
  /** Offset of the TSIG record in the message: everything before it is what was signed. */
  start: number;
};

/** The TSIG record of a message (the last additional record), or null when it has none. */
export function readTsig(message: Buffer): ParsedTsig | null {
  let spans;
  try {
    spans = walkRecords(message);
  } catch (err) {
    throw new TsigError('MALFORMED', 'reply', `the DNS reply could not be read: ${(err as Error).message}`);
  }
  const last = spans.additionals.at(-1);
  if (!last || last.type !== TYPE.TSIG) return null;
  try {
    let o = last.rdataStart;
    const algorithm = readName(message, o);
    o += encodeName(algorithm).length;
    const timeSigned = message.readUIntBE(o, 6);
    const fudge = message.readUInt16BE(o + 6);
    const macSize = message.readUInt16BE(o + 8);
    o += 10;
    const mac = message.subarray(o, o + macSize);
    o += macSize;
    const originalId = message.readUInt16BE(o);
    const error = message.readUInt16BE(o + 2);
    const otherLen = message.readUInt16BE(o + 4);
    const other = message.subarray(o + 6, o + 6 + otherLen);
    if (o + 6 + otherLen !== last.end || mac.length !== macSize) throw new Error('TSIG rdata length does not add up');
    return {
      keyName: readName(message, last.start),
      algorithm,
      timeSigned,
      fudge,
      mac,
      originalId,
      error,
      other,
      start: last.start,
    };
  } catch (err) {
    throw new TsigError('MALFORMED', 'reply', `the DNS reply's TSIG record could not be read: ${(err as Error).message}`);
  }
}

const sameName = (a: string, b: string) => a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

/**
 * Checks a reply to a request we signed: the server's TSIG error, the key and algorithm, the MAC
 * (over the request MAC, the reply without its TSIG record and the TSIG variables, §5.3.1) and the
 * time (within fudge). Throws a TsigError; returns the parsed TSIG on success.
 */
export function verifyReply(reply: Buffer, key: TsigKey, requestMac: Buffer, nowSeconds: number): ParsedTsig {
  const k = parseKey(key);
  const tsig = readTsig(reply);
  if (!tsig) {
    throw new TsigError(
      'UNSIGNED',
      'reply',
      'the DNS server answered a signed request without a TSIG signature (it may not know TSIG or the key)',
    );
  }
  const code = TSIG_RCODES[tsig.error];
  if (code === 'BADKEY')
    throw new TsigError(code, 'server', `the DNS server does not know the TSIG key "${k.name}" with ${k.algorithm} (BADKEY)`);
  if (code === 'BADSIG')
    throw new TsigError(
      code,
      'server',
      `the DNS server rejected the signature: the TSIG secret of key "${k.name}" does not match the server's (BADSIG)`,
    );
  if (code === 'BADTIME') {
    const serverTime = tsig.other.length === 6 ? tsig.other.readUIntBE(0, 6) : tsig.timeSigned;
    throw new TsigError(
      code,
      'server',
      `the DNS server rejected the request's time: the clocks differ by ${Math.abs(serverTime - Math.floor(nowSeconds))} s, more than the ${tsig.fudge} s allowed (BADTIME)`,
    );
  }
  if (tsig.error !== 0)
    throw new TsigError(code ?? 'MALFORMED', 'server', `the DNS server returned TSIG error ${code ?? tsig.error}`);
  if (!sameName(tsig.keyName, k.name) || !sameName(tsig.algorithm, k.algorithm)) {
    throw new TsigError(
      'KEY_MISMATCH',
      'reply',
      `the DNS reply is signed with key "${tsig.keyName}" (${tsig.algorithm}), not "${k.name}" (${k.algorithm})`,
    );
  }
  const expected = hmac(
    k,
    u16(requestMac.length),
    requestMac,
    signedBody(reply, tsig),
    tsigVariables(k, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other),
  );
  checkMacAndTime(tsig, expected, nowSeconds, {
    altered: "the DNS reply's TSIG signature does not verify: the reply was altered or not signed with our key",
    skew: (s) => `the DNS reply was signed ${s} s away from our clock, more than the ${tsig.fudge} s allowed (BADTIME)`,
  });
  return tsig;
}

/** A signed message as its MAC covers it: without its TSIG record, with its original ID. */
function signedBody(message: Buffer, tsig: ParsedTsig): Buffer {
  const body = Buffer.from(message.subarray(0, tsig.start));
  body.writeUInt16BE(tsig.originalId, 0);
  body.writeUInt16BE(body.readUInt16BE(10) - 1, 10);
  return body;
}

/** The MAC must equal `expected` (BADSIG) and the time signed lie within the fudge of our clock (BADTIME). */
function checkMacAndTime(
  tsig: ParsedTsig,
  expected: Buffer,
  nowSeconds: number,
  say: { altered: string; skew: (seconds: number) => string },
) {
  if (tsig.mac.length !== expected.length || !crypto.timingSafeEqual(tsig.mac, expected))
    throw new TsigError('BADSIG', 'reply', say.altered);
  const skew = Math.abs(Math.floor(nowSeconds) - tsig.timeSigned);
  if (skew > tsig.fudge) throw new TsigError('BADTIME', 'reply', say.skew(skew));
}

/** Most unsigned messages allowed between two signed ones of a stream (RFC 8945 §5.3.1). */
export const MAX_UNSIGNED_IN_STREAM = 99;

/**
 * Checks the replies of a multi-message answer (AXFR over TCP, RFC 8945 §5.3.1). The first
 * message must be signed and is checked like a single reply (its MAC covers the request MAC).
 * Each later signed message's MAC covers the previous MAC, every unsigned message since, itself
 * (without its TSIG, original ID restored) and only the timers (time signed, fudge). Unsigned
 * messages are allowed between signed ones (at most 99 in a row); `finish` refuses a stream whose
 * last message was not signed, so every byte of the answer is covered by a verified MAC.
 */
export class TsigStreamVerifier {
  private readonly key: TsigKey;
  private priorMac: Buffer | null = null;
  private unsigned: Buffer[] = [];
  /** Signed messages verified so far. */
  signed = 0;

  constructor(
    key: TsigKey,
    private readonly requestMac: Buffer,
  ) {
    this.key = parseKey(key);
  }

  /** Checks the next message of the stream; throws a TsigError when it fails. */
  next(message: Buffer, nowSeconds: number): void {
    if (this.priorMac === null) {
      this.priorMac = Buffer.from(verifyReply(message, this.key, this.requestMac, nowSeconds).mac);
      this.signed++;
      return;
    }
    const tsig = readTsig(message);
    if (!tsig) {
      if (this.unsigned.length >= MAX_UNSIGNED_IN_STREAM) {
        throw new TsigError(
          'UNSIGNED',
          'reply',
          `more than ${MAX_UNSIGNED_IN_STREAM} messages in a row of the zone transfer are unsigned`,
        );
      }
      this.unsigned.push(message);
      return;
    }
    if (tsig.error !== 0) {
      throw new TsigError(
        TSIG_RCODES[tsig.error] ?? 'MALFORMED',
        'server',
        `the DNS server returned TSIG error ${TSIG_RCODES[tsig.error] ?? tsig.error} during the zone transfer`,
      );
    }
    if (!sameName(tsig.keyName, this.key.name) || !sameName(tsig.algorithm, this.key.algorithm)) {
      throw new TsigError(
        'KEY_MISMATCH',
        'reply',
        `a message of the zone transfer is signed with key "${tsig.keyName}" (${tsig.algorithm}), not "${this.key.name}"`,
      );
    }
    const expected = hmac(
      this.key,
      u16(this.priorMac.length),
      this.priorMac,
      ...this.unsigned,
      signedBody(message, tsig),
      u48(tsig.timeSigned),
      u16(tsig.fudge),
    );
    checkMacAndTime(tsig, expected, nowSeconds, {
      altered:
        'a message of the zone transfer has a TSIG signature that does not verify: it was altered or not signed with our key',
      skew: (s) => `a message of the zone transfer was signed ${s} s away from our clock (BADTIME)`,
    });
    this.priorMac = Buffer.from(tsig.mac);
    this.unsigned = [];
    this.signed++;
  }

  /** At the end of the stream: its last message must have been signed. */
  finish(): void {
    if (this.priorMac === null || this.unsigned.length > 0) {
      throw new TsigError(
        'UNSIGNED',
        'reply',
        'the last message of the zone transfer is not signed, so its end cannot be trusted',
      );
    }
  }
}
