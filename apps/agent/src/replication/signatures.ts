// Block signatures kept between sessions, so neither side re-reads a big file only to learn the
// hashes it already computed. An entry is valid only for the exact file it was computed from:
// same inode, size, mtime AND ctime. ctime cannot be set from user space, so a file rewritten with
// its old size and mtime preserved (cp -p over it, touch -r) still misses the cache and is read
// again; a hit is as good as reading the file.
// - Target: filled when it computes a signature (NEED, PROBE) and kept current when it applies a
//   delta (the old hashes + the hashes of the blocks it just received), so the next delta of the
//   same file needs no read at all.
// - Source: filled when it hashes a file for a delta; an unchanged file then costs no read.
// Persisted (optional) as one JSON file in the agent's state directory, written a moment after the
// last change and on close. Only files of at least MIN_CACHED_SIZE are kept: small files are
// cheaper to hash than to remember.
import { type Stats } from 'node:fs';
import { lstat, readFile, rename, writeFile } from 'node:fs/promises';
import { BLOCK_SIZE, HASH_BYTES, type Signature, signFile } from './blocks.ts';

export const MIN_CACHED_SIZE = 4 * BLOCK_SIZE;
const MAX_ENTRIES = 20_000;
const SAVE_DELAY_MS = 1000;

interface Entry {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  hashes: Buffer;
}

type FileStats = Pick<Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

const matchesStats = (e: Entry, st: FileStats) => e.ino === st.ino && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs;

export class SignatureCache {
  private readonly entries = new Map<string, Entry>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;

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
      const rows = JSON.parse(text) as [string, number, number, number, number, string][];
      for (const [p, ino, size, mtimeMs, ctimeMs, h] of rows) {
        const hashes = Buffer.from(h, 'base64');
        if (hashes.length === Math.ceil(size / BLOCK_SIZE) * HASH_BYTES) this.entries.set(p, { ino, size, mtimeMs, ctimeMs, hashes });
      }
    } catch {
      this.entries.clear(); // a torn file: start empty
    }
  }

  /** The signature of `absPath` if it was computed from exactly this file (`st` from lstat/fstat now). */
  get(absPath: string, st: FileStats): Signature | undefined {
    const e = this.entries.get(absPath);
    if (!e) return undefined;
    if (!matchesStats(e, st)) {
      this.entries.delete(absPath);
      return undefined;
    }
    return { blockSize: BLOCK_SIZE, size: e.size, hashes: e.hashes };
  }

  set(absPath: string, st: FileStats, hashes: Buffer): void {
    if (st.size < MIN_CACHED_SIZE) return;
    if (hashes.length !== Math.ceil(st.size / BLOCK_SIZE) * HASH_BYTES) return;
    this.entries.delete(absPath);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(absPath, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, hashes });
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
    const rows = [...this.entries].map(([p, e]) => [p, e.ino, e.size, e.mtimeMs, e.ctimeMs, e.hashes.toString('base64')]);
    const tmp = `${this.file}.tmp`;
    this.saving = writeFile(tmp, JSON.stringify(rows))
      .then(() => rename(tmp, this.file!))
      .catch(() => undefined); // a cache: losing it costs a re-read, never correctness
    await this.saving;
  }
}
