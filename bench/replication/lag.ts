// Continuous-replication lag, measured end to end: a writer on the source produces a mix of file
// changes at a fixed rate, each stamped with a unique 16-byte token at a known offset; a checker
// polls the TARGET tree (every few ms) and records, per change, how long after the write completed
// the token (or, for deletes and rename sources, the absence) became visible there. Files land on
// the target by rename, so seeing a change's token means that whole version of the file arrived.
// A later change to the same path being visible also settles the earlier ones (replication is
// state-based: the later version includes or overwrites them).
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { MiB, prng, writeContent } from './tree.ts';

const TOKEN = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ContinuousSeed {
  smallFiles: string[];
  mediumFiles: string[];
  dirs: string[];
  db: string;
  dbSize: number;
  logs: string[];
  bytes: number;
}

/** The tree the continuous run starts from (mirrored before the writer starts). */
export function seedContinuous(root: string): ContinuousSeed {
  const rnd = prng(11);
  const seed: ContinuousSeed = { smallFiles: [], mediumFiles: [], dirs: [], db: 'data/db.bin', dbSize: 128 * MiB, logs: [], bytes: 0 };
  let n = 0;
  for (let a = 0; a < 10; a++) for (let b = 0; b < 5; b++) seed.dirs.push(`share/p${a}/q${b}`);
  for (const d of [...seed.dirs, 'media', 'data', 'logs']) mkdirSync(path.join(root, d), { recursive: true });
  for (let i = 0; i < 2000; i++) {
    const rel = `${seed.dirs[i % seed.dirs.length]}/seed-${i}.dat`;
    const size = 1024 + Math.floor(rnd() * 63 * 1024);
    writeContent(path.join(root, rel), size, 'cont', n++);
    seed.smallFiles.push(rel);
    seed.bytes += size;
  }
  for (let i = 0; i < 20; i++) {
    const rel = `media/m-${i}.bin`;
    writeContent(path.join(root, rel), MiB, 'cont', n++);
    seed.mediumFiles.push(rel);
    seed.bytes += MiB;
  }
  writeContent(path.join(root, seed.db), seed.dbSize, 'cont', n++);
  seed.bytes += seed.dbSize;
  for (let i = 0; i < 4; i++) {
    const rel = `logs/app-${i}.log`;
    writeContent(path.join(root, rel), MiB, 'cont', n++);
    seed.logs.push(rel);
    seed.bytes += MiB;
  }
  return seed;
}

type Kind = 'create' | 'overwrite' | 'db-write' | 'append' | 'rename' | 'delete' | 'mkdir';

interface Op {
  id: number;
  kind: Kind;
  path: string;
  /** Expected token at `offset`, or undefined = the path must be absent. */
  token?: Buffer;
  offset: number;
  /** performance.now() when the write returned. */
  t: number;
}

export interface LagResult {
  /** Lag of every change in ms (unresolved ones at the time the checker gave up: lower bounds). */
  lags: number[];
  byKind: Record<string, number[]>;
  ops: number;
  unresolved: number;
  bytesWritten: number;
  writeSeconds: number;
  /** Ticks whose writes started late (the writer itself could not keep the pace). */
  lateTicks: number;
}

/**
 * Writes for `durationMs` at about `mibPerSecond` (in 100 ms ticks), polling `dst` for arrivals,
 * then waits up to `settleMs` for the stragglers.
 */
export async function measureLag(src: string, dst: string, seed: ContinuousSeed, opts: { durationMs: number; settleMs: number; pollMs?: number }): Promise<LagResult> {
  const rnd = prng(23);
  const pending = new Map<string, Op[]>();
  const res: LagResult = { lags: [], byKind: {}, ops: 0, unresolved: 0, bytesWritten: 0, writeSeconds: 0, lateTicks: 0 };
  const pool = [...seed.smallFiles];
  let nextId = 1;
  let created = 0;
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
  const abs = (rel: string) => path.join(src, rel);
  const token = (id: number) => {
    const t = randomBytes(TOKEN);
    t.write('TNDM', 0);
    t.writeUInt32BE(id, 4);
    return t;
  };
  const record = (kind: Kind, rel: string, tok: Buffer | undefined, offset: number) => {
    const op: Op = { id: nextId++, kind, path: rel, token: tok, offset, t: performance.now() };
    const list = pending.get(rel);
    if (list) list.push(op);
    else pending.set(rel, [op]);
    res.ops++;
  };
  /** Writes `data` (token first) at `offset` of `rel`; `truncate` replaces the file. */
  const write = (rel: string, offset: number, size: number, truncate: boolean): Buffer => {
    const id = nextId;
    const tok = token(id);
    const data = randomBytes(size);
    tok.copy(data, 0);
    const fd = openSync(abs(rel), truncate ? 'w' : 'r+');
    try {
      let done = 0;
      while (done < size) done += writeSync(fd, data, done, size - done, offset + done);
    } finally {
      closeSync(fd);
    }
    res.bytesWritten += size;
    return tok;
  };
  const logSizes = new Map(seed.logs.map((l) => [l, MiB]));

  const tick = (n: number) => {
    // ~2 MiB per 100 ms tick: 4 small creates (1–64 KiB), 1 medium overwrite (0.75–1.75 MiB), 5
    // in-place 128 KiB page writes into a 128 MiB database file, 1 append of 16 KiB to a log; every
    // 5th tick a rename and a delete of an older small file, every 10th a new directory with 2 files.
    for (let i = 0; i < 4; i++) {
      const rel = `${pick(seed.dirs)}/new-${created++}.dat`;
      const tok = write(rel, 0, 1024 + Math.floor(rnd() * 63 * 1024), true);
      record('create', rel, tok, 0);
    }
    {
      const rel = pick(seed.mediumFiles);
      const tok = write(rel, 0, Math.round(0.75 * MiB + rnd() * MiB), true);
      record('overwrite', rel, tok, 0);
    }
    for (let i = 0; i < 5; i++) {
      const off = Math.floor(rnd() * ((seed.dbSize - 128 * 1024) / 4096)) * 4096;
      const tok = write(seed.db, off, 128 * 1024, false);
      record('db-write', seed.db, tok, off);
    }
    {
      const rel = pick(seed.logs);
      const off = logSizes.get(rel)!;
      const tok = write(rel, off, 16 * 1024, false);
      logSizes.set(rel, off + 16 * 1024);
      record('append', rel, tok, off);
    }
    if (n % 5 === 0 && pool.length > 2) {
      const from = pool.splice(Math.floor(rnd() * pool.length), 1)[0]!;
      const to = `${pick(seed.dirs)}/renamed-${created++}.dat`;
      const fd = openSync(abs(from), 'r');
      const head = Buffer.alloc(TOKEN);
      readSync(fd, head, 0, TOKEN, 0);
      closeSync(fd);
      renameSync(abs(from), abs(to));
      record('rename', to, head, 0);
      record('rename', from, undefined, 0);
      const gone = pool.splice(Math.floor(rnd() * pool.length), 1)[0]!;
      rmSync(abs(gone));
      record('delete', gone, undefined, 0);
    }
    if (n % 10 === 0) {
      const dir = `fresh/dir-${n}`;
      mkdirSync(abs(dir), { recursive: true });
      for (let i = 0; i < 2; i++) {
        const rel = `${dir}/f-${i}.dat`;
        const tok = write(rel, 0, 8 * 1024, true);
        record('mkdir', rel, tok, 0);
      }
    }
  };

  const head = Buffer.alloc(TOKEN);
  const visible = (op: Op): boolean => {
    let fd: number;
    try {
      fd = openSync(path.join(dst, op.path), 'r');
    } catch {
      return op.token === undefined;
    }
    try {
      if (op.token === undefined) return false;
      const n = readSync(fd, head, 0, TOKEN, op.offset);
      return n === TOKEN && head.equals(op.token);
    } finally {
      closeSync(fd);
    }
  };
  const settle = (rel: string, list: Op[], now: number) => {
    for (let i = list.length - 1; i >= 0; i--) {
      if (!visible(list[i]!)) continue;
      for (const op of list.splice(0, i + 1)) {
        const lag = now - op.t;
        res.lags.push(lag);
        (res.byKind[op.kind] ??= []).push(lag);
      }
      if (!list.length) pending.delete(rel);
      return;
    }
  };
  const poll = () => {
    const now = performance.now();
    for (const [rel, list] of pending) settle(rel, list, now);
  };

  // The writer runs on a timer; the checker polls in between.
  mkdirSync(abs('fresh'), { recursive: true });
  const t0 = performance.now();
  let ticks = 0;
  let writing = true;
  const writer = (async () => {
    while (performance.now() - t0 < opts.durationMs) {
      const due = t0 + ticks * 100;
      if (performance.now() - due > 50) res.lateTicks++;
      tick(ticks++);
      const wait = t0 + ticks * 100 - performance.now();
      if (wait > 0) await sleep(wait);
    }
    res.writeSeconds = (performance.now() - t0) / 1000;
    writing = false;
  })();
  const pollMs = opts.pollMs ?? 5;
  while (writing) {
    poll();
    await sleep(pollMs);
  }
  await writer;
  const giveUp = performance.now() + opts.settleMs;
  while (pending.size && performance.now() < giveUp) {
    poll();
    await sleep(pollMs);
  }
  const now = performance.now();
  for (const list of pending.values()) {
    for (const op of list) {
      res.unresolved++;
      res.lags.push(now - op.t);
      (res.byKind[op.kind] ??= []).push(now - op.t);
    }
  }
  return res;
}
