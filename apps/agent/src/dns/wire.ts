// Small pieces of the DNS wire format that dns-packet does not give us: uncompressed names
// (TSIG needs them in canonical form), rdata for the record kinds we update, and a walker that
// finds where each resource record starts (to cut the TSIG record off a reply before checking it).
import net from 'node:net';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, AAAA: 28, TSIG: 250, AXFR: 252, ANY: 255 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};

/** A name without its trailing dot; the root is "". */
export function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** A name as uncompressed labels. `canonical` lowercases it (RFC 8945 §4.3.3 wants that for TSIG). */
export function encodeName(name: string, canonical = false): Buffer {
  const n = trimDot(canonical ? name.toLowerCase() : name);
  const parts: Buffer[] = [];
  if (n !== '') {
    for (const label of n.split('.')) {
      const bytes = Buffer.from(label, 'ascii');
      if (bytes.length === 0 || bytes.length > 63) throw new Error(`invalid DNS name "${name}"`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function encodeIPv4(address: string): Buffer {
  if (net.isIPv4(address) === false) throw new Error(`"${address}" is not an IPv4 address`);
  return Buffer.from(address.split('.').map(Number));
}

export function encodeIPv6(address: string): Buffer {
  if (net.isIPv6(address) === false) throw new Error(`"${address}" is not an IPv6 address`);
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = encodeIPv4(v4[1]);
    text = text.slice(0, -v4[1].length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  const hextets = [...left, ...fill, ...right];
  const out = Buffer.alloc(16);
  hextets.forEach((h, i) => out.writeUInt16BE(parseInt(h, 16), i * 2));
  return out;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** One resource record, names uncompressed: owner, type, class, TTL, rdlength, rdata. */
export function encodeRecord(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(name), fixed, rdata]);
}

export function encodeHeader(h: {
  id: number;
  opcode: number;
  rd?: boolean;
  qd: number;
  an: number;
  ns: number;
  ar: number;
}): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(h.id, 0);
  b.writeUInt16BE(((h.opcode & 0xf) << 11) | (h.rd ? 0x0100 : 0), 2);
  b.writeUInt16BE(h.qd, 4);
  b.writeUInt16BE(h.an, 6);
  b.writeUInt16BE(h.ns, 8);
  b.writeUInt16BE(h.ar, 10);
  return b;
}

export function encodeQuestion(name: string, type: number, klass: number = CLASS.IN): Buffer {
  return Buffer.concat([encodeName(name), u16(type), u16(klass)]);
}

export { u16 };

/** Skips a (possibly compressed) name; returns the offset just after it. */
export function skipName(buf: Buffer, offset: number): number {
  let o = offset;
  for (;;) {
    if (o >= buf.length) throw new Error('truncated DNS message (name)');
    const len = buf[o]!;
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2;
    if ((len & 0xc0) !== 0) throw new Error('bad DNS label');
    o += 1 + len;
  }
}

/** Reads a (possibly compressed) name starting at offset. */
export function readName(buf: Buffer, offset: number): string {
  const labels: string[] = [];
  let o = offset;
  for (let hops = 0; hops < 64; hops++) {
    if (o >= buf.length) throw new Error('truncated DNS message (name)');
    const len = buf[o]!;
    if (len === 0) return labels.join('.');
    if ((len & 0xc0) === 0xc0) {
      o = buf.readUInt16BE(o) & 0x3fff;
      continue;
    }
    labels.push(buf.toString('ascii', o + 1, o + 1 + len));
    o += 1 + len;
  }
  throw new Error('DNS name compression loop');
}

export type RecordSpan = { start: number; end: number; type: number; rdataStart: number };

/** Where every resource record of a message starts and ends, section by section. */
export function walkRecords(buf: Buffer): { answers: RecordSpan[]; authorities: RecordSpan[]; additionals: RecordSpan[] } {
  if (buf.length < 12) throw new Error('truncated DNS message (header)');
  const qd = buf.readUInt16BE(4);
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let o = 12;
  for (let i = 0; i < qd; i++) o = skipName(buf, o) + 4;
  const sections: RecordSpan[][] = [[], [], []];
  counts.forEach((count, s) => {
    for (let i = 0; i < count; i++) {
      const start = o;
      o = skipName(buf, o);
      if (o + 10 > buf.length) throw new Error('truncated DNS message (record)');
      const type = buf.readUInt16BE(o);
      const rdlength = buf.readUInt16BE(o + 8);
      const rdataStart = o + 10;
      o = rdataStart + rdlength;
      if (o > buf.length) throw new Error('truncated DNS message (rdata)');
      sections[s]!.push({ start, end: o, type, rdataStart });
    }
  });
  return { answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]! };
}
