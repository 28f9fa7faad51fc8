import { describe, expect, it } from 'vitest';
import { readTsig, signRequest, verifyReply, type TsigKey } from './tsig.ts';

// Recorded outputs (BIND 9.18 on loopback, 2026-12-07) with a throwaway key made by
// `tsig-keygen -a hmac-sha256 tandem-test-key` for the recording and used nowhere else.
const key: TsigKey = {
  name: 'tandem-test-key',
  algorithm: 'hmac-sha256',
  secret: 'HTl0+OoWH7S9j9e+IXf2L8b59HCYc76RM6QkCjflr7A=',
};

/** `dig -y <algorithm>:tandem-test-key:<secret> +nocookie www.example.test A`, as each went on the wire. */
const digRequests = {
  'hmac-sha256': Buffer.from(
    '56c90120000100000000000203777777076578616d706c650474657374000001000100002904d00000000000000f74616e64656d2d746573742d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b1651be012c002066910209d07b7f12eb1c123cac527619a6040f9da59e402c56fe330e0474e2f156c900000000',
    'hex',
  ),
  'hmac-sha512': Buffer.from(
    '66190120000100000000000203777777076578616d706c650474657374000001000100002904d00000000000000f74616e64656d2d746573742d6b65790000fa00ff00000000005d0b686d61632d7368613531320000006b16535e012c0040b2622c76de8cc228f61661ff9eb545448416c421136cfa54e1a4c0a4eb1f9f95a38dbb11a8730ef013e5eab338717c5ca02d09c905b5e9aa6776857b24eb85df661900000000',
    'hex',
  ),
  'hmac-sha1': Buffer.from(
    'e2a10120000100000000000203777777076578616d706c650474657374000001000100002904d00000000000000f74616e64656d2d746573742d6b65790000fa00ff00000000002f09686d61632d736861310000006b16535f012c001464fc84df655c13eddc0eadbb21d95f59f06033bbe2a100000000',
    'hex',
  ),
} as const;
const digRequest = digRequests['hmac-sha256'];

/** A signed query of ours and `named`'s signed answer (NOERROR, www.example.test A 192.0.2.10). */
const recorded = {
  now: 1796624824,
  requestMac: Buffer.from('bb0a0226992cd0f5211be1290a4875707bd99838a1823aa570eb28850c2c81aa', 'hex'),
  reply: Buffer.from(
    '12348400000100010001000203777777076578616d706c6504746573740000010001c00c000100010000012c0004c000020ac010000200010000012c0006036e7331c010c03e000100010000012c00047f0000010f74616e64656d2d746573742d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b1651b8012c0020ffd7de033e85e9f73bdfec083bf8beb08a065386296040bc9f3b0b4f860cecfb123400000000',
    'hex',
  ),
};

/** `named`'s signed answer to one of our signed updates (NOERROR, no records). */
const recordedUpdate = {
  requestMac: Buffer.from('1f764e683f469721eb915e3e2303b1bf854d92b695f371232c8d5da10b4a2b1c', 'hex'),
  reply: Buffer.from(
    '4321a8000001000000000001076578616d706c65047465737400000600010f74616e64656d2d746573742d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b1651b8012c002053421676d87622dac903ffc3c94fac91a1899743f391977ed8246119ae074fa8432100000000',
    'hex',
  ),
};

describe('signRequest', () => {
  it.each(Object.entries(digRequests))(
    'computes the same %s MAC and TSIG record as BIND’s dig for the same message and time (known answer)',
    (algorithm, request) => {
      const tsig = readTsig(request)!;
      expect(tsig.keyName).toBe('tandem-test-key');
      expect(tsig.algorithm).toBe(algorithm);
      const unsigned = Buffer.from(request.subarray(0, tsig.start));
      unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
      const signed = signRequest(unsigned, { ...key, algorithm: algorithm as TsigKey['algorithm'] }, tsig.timeSigned, tsig.fudge);
      expect(signed.mac.toString('hex')).toBe(tsig.mac.toString('hex'));
      expect(signed.message.toString('hex')).toBe(request.toString('hex'));
    },
  );

  it('gives a different MAC for another secret, time or message', () => {
    const tsig = readTsig(digRequest)!;
    const unsigned = Buffer.from(digRequest.subarray(0, tsig.start));
    unsigned.writeUInt16BE(1, 10);
    const base = signRequest(unsigned, key, tsig.timeSigned).mac.toString('hex');
    const otherSecret = { ...key, secret: Buffer.alloc(32, 7).toString('base64') };
    expect(signRequest(unsigned, otherSecret, tsig.timeSigned).mac.toString('hex')).not.toBe(base);
    expect(signRequest(unsigned, key, tsig.timeSigned + 1).mac.toString('hex')).not.toBe(base);
    const changed = Buffer.from(unsigned);
    changed.writeUInt8(changed.readUInt8(14) ^ 1, 14);
    expect(signRequest(changed, key, tsig.timeSigned).mac.toString('hex')).not.toBe(base);
  });

  it('refuses a key that is not valid (bad name, secret not base64 or too short)', () => {
    const msg = Buffer.alloc(12);
    expect(() => signRequest(msg, { ...key, name: 'bad name' }, 1)).toThrow(/key name/);
    expect(() => signRequest(msg, { ...key, secret: 'not base64!' }, 1)).toThrow(/base64/);
    expect(() => signRequest(msg, { ...key, secret: 'c2hvcnQ=' }, 1)).toThrow(/shorter than 16 bytes/);
  });
});

describe('verifyReply', () => {
  it('accepts BIND’s signed replies (query and update)', () => {
    expect(verifyReply(recorded.reply, key, recorded.requestMac, recorded.now).timeSigned).toBe(recorded.now);
    expect(() => verifyReply(recordedUpdate.reply, key, recordedUpdate.requestMac, recorded.now)).not.toThrow();
  });

  it('rejects the recorded reply with any single byte flipped before or inside the MAC', () => {
    const tsig = readTsig(recorded.reply)!;
    // Every byte of the signed part and of the MAC (the TSIG's own fixed fields are checked too, below).
    const macStart = recorded.reply.length - 6 - 2 - tsig.mac.length;
    const positions = [...Array(tsig.start).keys(), ...Array.from({ length: tsig.mac.length }, (_, i) => macStart + i)].filter(
      (i) => i >= 2,
    );
    for (const i of positions) {
      const tampered = Buffer.from(recorded.reply);
      tampered.writeUInt8(tampered.readUInt8(i) ^ 0x01, i);
      let error: unknown = null;
      try {
        verifyReply(tampered, key, recorded.requestMac, recorded.now);
      } catch (err) {
        error = err;
      }
      expect(error, `byte ${i}`).toBeInstanceOf(Error);
    }
    const flippedAnswer = Buffer.from(recorded.reply);
    flippedAnswer.writeUInt8(flippedAnswer.readUInt8(49) ^ 0x01, 49); // the last byte of the A record's address
    expect(() => verifyReply(flippedAnswer, key, recorded.requestMac, recorded.now)).toThrow(
      expect.objectContaining({ name: 'TsigError', code: 'BADSIG', side: 'reply' }),
    );
  });

  it('rejects a reply for another request MAC, or checked with another secret', () => {
    const otherMac = Buffer.from(recorded.requestMac);
    otherMac.writeUInt8(otherMac.readUInt8(0) ^ 0xff, 0);
    expect(() => verifyReply(recorded.reply, key, otherMac, recorded.now)).toThrow(/does not verify/);
    expect(() =>
      verifyReply(recorded.reply, { ...key, secret: Buffer.alloc(32, 1).toString('base64') }, recorded.requestMac, recorded.now),
    ).toThrow(/does not verify/);
  });

  it('rejects a reply signed outside the fudge window of our clock (BADTIME)', () => {
    expect(() => verifyReply(recorded.reply, key, recorded.requestMac, recorded.now + 301)).toThrow(
      expect.objectContaining({ code: 'BADTIME', side: 'reply' }),
    );
    expect(() => verifyReply(recorded.reply, key, recorded.requestMac, recorded.now - 300)).not.toThrow();
  });

  it('rejects an unsigned reply and one signed with another key name', () => {
    const tsig = readTsig(recorded.reply)!;
    const unsigned = Buffer.from(recorded.reply.subarray(0, tsig.start));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
    expect(() => verifyReply(unsigned, key, recorded.requestMac, recorded.now)).toThrow(
      expect.objectContaining({ code: 'UNSIGNED' }),
    );
    expect(() => verifyReply(recorded.reply, { ...key, name: 'other-key' }, recorded.requestMac, recorded.now)).toThrow(
      expect.objectContaining({ code: 'KEY_MISMATCH' }),
    );
  });

  it('turns the server’s TSIG errors into clear errors (BADKEY, BADSIG, BADTIME)', () => {
    const tsig = readTsig(recordedUpdate.reply)!;
    // The error field is the 2 bytes before "other len" at the end of the record.
    const withError = (code: number) => {
      const b = Buffer.from(recordedUpdate.reply);
      b.writeUInt16BE(code, b.length - 4);
      return b;
    };
    expect(tsig.error).toBe(0);
    expect(() => verifyReply(withError(17), key, recordedUpdate.requestMac, recorded.now)).toThrow(
      expect.objectContaining({
        code: 'BADKEY',
        side: 'server',
        message: expect.stringMatching(/does not know the TSIG key "tandem-test-key"/) as unknown,
      }),
    );
    expect(() => verifyReply(withError(16), key, recordedUpdate.requestMac, recorded.now)).toThrow(
      expect.objectContaining({
        code: 'BADSIG',
        side: 'server',
        message: expect.stringMatching(/secret .* does not match/) as unknown,
      }),
    );
    expect(() => verifyReply(withError(18), key, recordedUpdate.requestMac, recorded.now)).toThrow(
      expect.objectContaining({ code: 'BADTIME', side: 'server' }),
    );
  });

  it('reports a cut-off reply as malformed, not as a crash', () => {
    expect(() =>
      verifyReply(recorded.reply.subarray(0, recorded.reply.length - 10), key, recorded.requestMac, recorded.now),
    ).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
  });
});
