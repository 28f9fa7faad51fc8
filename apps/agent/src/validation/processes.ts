// Processes for validation (Linux): listening sockets with their owning process, and processes
// holding files open for writing under given paths. Both come from one walk of /proc/*/fd.
import path from 'node:path';
import type { ValidationFacts, ValidationFactsArgs } from '@tandem/engine';
import { readFileOrNull } from '../facts/io.ts';
import { clip, mapLimit } from '../facts/util.ts';
import { fdTable, processName, type ValidationContext } from './context.ts';

type OkData<K extends keyof ValidationFacts> = Extract<ValidationFacts[K], { status: 'ok' }>['data'];

/** A /proc/net address (little-endian 32-bit words) as text. */
export function decodeProcAddress(hex: string): string {
  const word = (h: string) => {
    const n = parseInt(h, 16);
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  };
  if (hex.length === 8) return word(hex).join('.');
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap(word);
  // An IPv4-mapped address (::ffff:a.b.c.d) reads better in its IPv4 form.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // The longest run of two or more zero groups becomes "::".
  let best = { start: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.len).join(':')}`;
}

interface Socket {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  inode: string;
}

/** Listening TCP sockets (state 0A) and bound, unconnected UDP sockets (state 07) from a /proc/net table. */
export function parseProcNet(text: string, protocol: 'tcp' | 'udp'): Socket[] {
  const out: Socket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [local, remote, st] = [f[1]!, f[2]!, f[3]!];
    const listening = protocol === 'tcp' ? st === '0A' : st === '07' && /^0+:0000$/.test(remote);
    if (!listening) continue;
    const [addr, port] = local.split(':');
    out.push({ protocol, address: decodeProcAddress(addr!), port: parseInt(port!, 16), inode: f[9]! });
  }
  return out;
}

export async function collectListening(ctx: ValidationContext): Promise<OkData<'listening'>> {
  const tables = await Promise.all(
    (['tcp', 'tcp6', 'udp', 'udp6'] as const).map(async (t) => parseProcNet((await readFileOrNull(ctx.io, `/proc/net/${t}`)) ?? '', t.startsWith('tcp') ? 'tcp' : 'udp')),
  );
  const sockets = tables.flat();
  if (sockets.length === 0 && tables.every((t) => t.length === 0) && !(await readFileOrNull(ctx.io, '/proc/net/tcp'))) {
    throw new Error('/proc/net/tcp cannot be read');
  }
  const owners = new Map<string, number>();
  for (const e of await fdTable(ctx)) {
    const m = /^socket:\[(\d+)\]$/.exec(e.target);
    if (m && !owners.has(m[1]!)) owners.set(m[1]!, e.pid);
  }
  const seen = new Set<string>();
  const out: OkData<'listening'> = [];
  for (const s of sockets) {
    const key = `${s.protocol}|${s.address}|${s.port}`;
    if (seen.has(key)) continue; // SO_REUSEPORT groups: one line per address and port.
    seen.add(key);
    const pid = owners.get(s.inode);
    out.push({ protocol: s.protocol, address: clip(s.address), port: s.port, process: pid === undefined ? null : clip(await processName(ctx, pid)) });
  }
  return out.slice(0, 5000);
}

/** O_ACCMODE of an fdinfo `flags:` line (octal): 1 write-only, 2 read-write. */
export function openForWriting(fdinfo: string): boolean {
  const flags = /^flags:\s*([0-7]+)/m.exec(fdinfo)?.[1];
  if (flags === undefined) return false;
  const mode = parseInt(flags, 8) & 0o3;
  return mode === 1 || mode === 2;
}

export async function collectOpenFiles(ctx: ValidationContext, args: ValidationFactsArgs): Promise<OkData<'openFiles'>> {
  if (args.openFilesUnder.length === 0) return [];
  const roots = args.openFilesUnder.map((r) => path.resolve(r));
  const under = (p: string) => roots.some((r) => p === r || p.startsWith(r === '/' ? '/' : `${r}/`));
  // A deleted file still open reads as "<path> (deleted)": it no longer is under the path.
  const candidates = (await fdTable(ctx)).filter((e) => e.target.startsWith('/') && !e.target.endsWith(' (deleted)') && under(e.target));
  const writing = await mapLimit(candidates, 32, async (e) => {
    const info = await readFileOrNull(ctx.io, `/proc/${e.pid}/fdinfo/${e.fd}`);
    return info !== null && openForWriting(info) ? e : null;
  });
  const out: OkData<'openFiles'> = [];
  const seen = new Set<string>();
  for (const e of writing) {
    if (!e || e.pid === process.pid || seen.has(`${e.pid}|${e.target}`)) continue; // The agent's own files are its business.
    seen.add(`${e.pid}|${e.target}`);
    out.push({ path: clip(e.target), pid: e.pid, process: clip(await processName(ctx, e.pid)) });
  }
  return out.slice(0, 5000);
}
