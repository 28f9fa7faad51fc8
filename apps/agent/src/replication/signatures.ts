// Block signatures kept between sessions, so neither side re-reads a big file only to learn the
// hashes it already computed. An entry is valid only for the exact file it was computed from:
// same inode, size, mtime AND ctime. ctime cannot be set from user space, so a file rewritten with
// its old size and mtime preserved (cp -p over it, touch -r) still misses the cache and is read
// again; a hit is as good as reading the file.
// - Target: filled when it computes a signature (NEED, PROBE) and kept current when it applies a
//   delta (the old hashes + the hashes of the blocks it just received), so the next delta of the
//   same file needs no read at all.
// - Source: filled when it hashes a file for a delta; an unchanged file then costs no read. Its
//   entries also hold each block's keyed fingerprint (hashpool.ts): when the file has changed since
//   (same inode, new size/mtime/ctime), the stale entry is the BASIS of the next pass, which reads
//   the file and fingerprints every block but SHA-256-hashes only blocks whose fingerprint moved.
//   The fingerprint key is random per cache and kept in the cache file (mode 0600, in the agent's
//   state directory): it never leaves the machine.
// Persisted (optional) as one JSON file in the agent's state directory, written a moment after the
// last change and on close. Only files of at least MIN_CACHED_SIZE are kept: small files are
// cheaper to hash than to remember.
import { type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { BLOCK_SIZE, HASH_BYTES, type Signature, signFile } from './blocks.ts';
import { FINGERPRINT_BYTES, type FingerprintBasis } from './hashpool.ts';

export const MIN_CACHED_SIZE = 4 * BLOCK_SIZE;
const MAX_ENTRIES = 20_000;
const SAVE_DELAY_MS = 1000;

interface Entry {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  hashes: Buffer;
  /** Per-block keyed fingerprints (source side, files hashed on the pool), or absent. */
  fingerprints?: Buffer;
}

/** Persisted form: the fingerprint key and one row per file. */
interface Saved {
  key: string;
  rows: [path: string, ino: number, size: number, mtimeMs: number, ctimeMs: number, hashes: string, fingerprints?: string][];
}

type FileStats = Pick<Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

/** A source's own hashes of a file it is about to read (see own()). */
export interface OwnHashes {
  exact?: Signature;
  basis: FingerprintBasis;
}

const matchesStats = (e: Entry, st: FileStats) => e.ino === st.ino && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs;

export class SignatureCache {
  private readonly entries = new Map<string, Entry>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  /** The key of this cache's block fingerprints (hashpool.ts). */
  private fingerprintKey = randomBytes(16);

  /** `file`: where to persist (absent = memory only). */
  constructor(private readonly file?: string) {}

  async load(): Promise<void> {
    if (!this.file) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return; // none yet, or unreadable: start empty
    }
    try {
      const saved = JSON.parse(text) as Saved;
      const key = Buffer.from(saved.key, 'base64');
      if (key.length !== this.fingerprintKey.length || !Array.isArray(saved.rows)) throw new Error('not a signature cache');
      this.fingerprintKey = key;
      for (const [p, ino, size, mtimeMs, ctimeMs, h, f] of saved.rows) {
        const hashes = Buffer.from(h, 'base64');
        const fingerprints = f ? Buffer.from(f, 'base64') : undefined;
        const count = Math.ceil(size / BLOCK_SIZE);
        if (hashes.length !== count * HASH_BYTES) continue;
        this.entries.set(p, { ino, size, mtimeMs, ctimeMs, hashes, fingerprints: fingerprints?.length === count * FINGERPRINT_BYTES ? fingerprints : undefined });
      }
    } catch {
      this.entries.clear(); // a torn file: start empty
    }
  }

  /** The signature of `absPath` if it was computed from exactly this file (`st` from lstat/fstat now). */
  get(absPath: string, st: FileStats): Signature | undefined {
    const e = this.entries.get(absPath);
    if (!e || !matchesStats(e, st)) return undefined; // a stale entry stays: it is the next pass's basis
    return { blockSize: BLOCK_SIZE, size: e.size, hashes: e.hashes };
  }

  /**
   * What a source reading `absPath` (now `st`) can build on: its signature if still valid for this
   * exact file, else the fingerprint key plus the previous version's fingerprints and hashes when
   * we hold them for this inode (see the header).
   */
  own(absPath: string, st: FileStats): OwnHashes {
    const exact = this.get(absPath, st);
    const e = this.entries.get(absPath);
    if (exact || !e || e.ino !== st.ino || !e.fingerprints) return { exact, basis: { key: this.fingerprintKey } };
    return { basis: { key: this.fingerprintKey, fingerprints: e.fingerprints, hashes: e.hashes } };
  }

  set(absPath: string, st: FileStats, hashes: Buffer, fingerprints?: Buffer): void {
    if (st.size < MIN_CACHED_SIZE) return;
    const count = Math.ceil(st.size / BLOCK_SIZE);
    if (hashes.length !== count * HASH_BYTES) return;
    this.entries.delete(absPath);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const fp = fingerprints?.length === count * FINGERPRINT_BYTES ? fingerprints : undefined;
    this.entries.set(absPath, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, hashes, fingerprints: fp });
    this.scheduleSave();
  }

  delete(absPath: string): void {
    if (this.entries.delete(absPath)) this.scheduleSave();
  }

  /** Signature of a file: from the cache when it is still valid, else read, hashed and remembered. */
  async sign(absPath: string, st: FileStats): Promise<Signature> {
    const hit = this.get(absPath, st);
    if (hit) return hit;
    const sig = await signFile(absPath);
    // Remember it only if the file did not move while we read it.
    const after = await lstat(absPath).catch(() => undefined);
    if (sig.size === st.size && after && matchesStats({ ...after, hashes: sig.hashes }, st)) this.set(absPath, st, sig.hashes);
    return sig;
  }

  /** Writes pending changes now. */
  async flush(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
  }

  private scheduleSave(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  private async save(): Promise<void> {
    if (!this.file) return;
    await this.saving;
    const saved: Saved = {
      key: this.fingerprintKey.toString('base64'),
      rows: [...this.entries].map(([p, e]) => [p, e.ino, e.size, e.mtimeMs, e.ctimeMs, e.hashes.toString('base64'), e.fingerprints?.toString('base64')]),
    };
    const tmp = `${this.file}.tmp`;
    // 0600: the fingerprint key must stay secret to keep its collision bound (hashpool.ts).
    this.saving = rm(tmp, { force: true })
      .then(() => writeFile(tmp, JSON.stringify(saved), { mode: 0o600 }))
      .then(() => rename(tmp, this.file!))
      .catch(() => undefined); // a cache: losing it costs a re-read, never correctness
    await this.saving;
  }
}
