// The failure monitor's datagrams: a probe (target → source) and its answer (source → target).
//
// Both have the same fixed 78-byte layout, all integers big-endian:
//
//   offset  size  field
//        0     4  magic "TDMP"
//        4     1  version (1)
//        5     1  kind: 1 probe, 2 answer
//        6    16  pair id (the UUID's 16 bytes)
//       22    16  nonce: random in a probe, echoed unchanged in its answer
//       38     8  sender's clock, ms since the epoch (informational: clocks may disagree)
//       46    32  HMAC-SHA256(pair key, label ‖ 0x00 ‖ bytes 0..45)
//
// The labels differ for probes and answers, so a probe can never pass for an answer (a reflected
// probe does not prove the source agent is alive), and they set these MACs apart from any other
// use of the pair key. The target accepts an answer only if it echoes the nonce of the probe it
// sent for that address in the current interval, so a replayed answer is worth nothing. A replayed
// probe only earns an answer of the same size carrying a stale nonce: no amplification.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PROBE_MAGIC = Buffer.from('TDMP', 'ascii');
export const PROBE_VERSION = 1;
export const DATAGRAM_BYTES = 78;
export const NONCE_BYTES = 16;

const KIND_CODE = { probe: 1, answer: 2 } as const;
const LABEL = { probe: 'tandem monitor probe v1', answer: 'tandem monitor answer v1' } as const;
const MAC_OFFSET = 46;

export type DatagramKind = keyof typeof KIND_CODE;

export interface MonitorDatagram {
  kind: DatagramKind;
  /** Lower-case UUID. */
  pairId: string;
  nonce: Buffer;
  at: number;
}

/** Why a datagram was refused (for rate-limited logging; never sent back). */
export type RefusalReason = 'size' | 'magic' | 'version' | 'kind' | 'unknown-pair' | 'bad-mac';

export type DecodeResult = { ok: true; datagram: MonitorDatagram } | { ok: false; reason: RefusalReason };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidToBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error(`not a UUID: ${id}`);
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function macOf(kind: DatagramKind, key: Buffer, signed: Buffer): Buffer {
  return createHmac('sha256', key).update(LABEL[kind]).update(Buffer.from([0])).update(signed).digest();
}

/** Builds a signed probe or answer. */
export function encodeDatagram(d: MonitorDatagram, key: Buffer): Buffer {
  if (d.nonce.length !== NONCE_BYTES) throw new Error(`the nonce must be ${NONCE_BYTES} bytes`);
  if (!Number.isSafeInteger(d.at) || d.at < 0) throw new Error('the timestamp must be a non-negative integer');
  const buf = Buffer.alloc(DATAGRAM_BYTES);
  PROBE_MAGIC.copy(buf, 0);
  buf.writeUInt8(PROBE_VERSION, 4);
  buf.writeUInt8(KIND_CODE[d.kind], 5);
  uuidToBytes(d.pairId).copy(buf, 6);
  d.nonce.copy(buf, 22);
  buf.writeBigUInt64BE(BigInt(d.at), 38);
  macOf(d.kind, key, buf.subarray(0, MAC_OFFSET)).copy(buf, MAC_OFFSET);
  return buf;
}

/**
 * Checks a received datagram: layout, then the MAC with the key `keyFor` gives for its pair id
 * (undefined: a pair this side does not serve). Never throws, whatever the bytes.
 */
export function decodeDatagram(buf: Buffer, keyFor: (pairId: string) => Buffer | undefined): DecodeResult {
  if (buf.length !== DATAGRAM_BYTES) return { ok: false, reason: 'size' };
  if (!buf.subarray(0, 4).equals(PROBE_MAGIC)) return { ok: false, reason: 'magic' };
  if (buf.readUInt8(4) !== PROBE_VERSION) return { ok: false, reason: 'version' };
  const code = buf.readUInt8(5);
  const kind: DatagramKind | null = code === KIND_CODE.probe ? 'probe' : code === KIND_CODE.answer ? 'answer' : null;
  if (!kind) return { ok: false, reason: 'kind' };
  const pairId = bytesToUuid(buf.subarray(6, 22));
  const key = keyFor(pairId);
  if (!key) return { ok: false, reason: 'unknown-pair' };
  const expected = macOf(kind, key, buf.subarray(0, MAC_OFFSET));
  if (!timingSafeEqual(expected, buf.subarray(MAC_OFFSET))) return { ok: false, reason: 'bad-mac' };
  const at = buf.readBigUInt64BE(38);
  return {
    ok: true,
    datagram: { kind, pairId, nonce: Buffer.from(buf.subarray(22, 38)), at: at > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(at) },
  };
}

/**
 * Logs refusals without letting a flood of junk flood the log: the first one at once, then at
 * most one line per `everyMs` with how many were refused since.
 */
export class RefusalLog {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
    private readonly what: string,
    private readonly everyMs = 60_000,
  ) {}

  note(extra: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastAt < this.everyMs) {
      this.suppressed++;
      return;
    }
    this.log(this.what, { ...extra, ...(this.suppressed ? { moreSinceLastLine: this.suppressed } : {}) });
    this.lastAt = now;
    this.suppressed = 0;
  }
}
