// The continuous target's in-flight log, `<stateDir>/inflight.log`: the path of every temp file is
// appended before the file is created, so a target restarted after a crash (or a clean stop) can
// remove what an interrupted change left behind. Once no temp file is open and the log has grown
// past 64 KiB it is truncated and starts again at offset 0.
//
// Writes go to explicit offsets: a descriptor opened without O_APPEND keeps its position across
// ftruncate, so plain writes after a truncation would leave a run of NUL bytes before the next name.
// Reading is lenient all the same (a log torn by a crash, or written by an older agent with that
// defect): names are split on newlines and NULs, and only an absolute path inside the root whose
// last component is a temp-file name is removed. Nothing in the log can make recovery throw.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isTempName } from '../manifest.ts';

const TRUNCATE_AT = 64 * 1024;

export interface RecoveryResult {
  /** Temp files listed in the log (whether or not they still existed) and removed. */
  removed: number;
  /** Log entries that were not a temp file inside the root (garbage), left alone. */
  skipped: number;
  /** Temp files that could not be removed (reported, never thrown). */
  errors: string[];
}

export class InflightLog {
  private fd = -1;
  private bytes = 0;
  private readonly open = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly root: string,
  ) {}

  /** Removes the temp files the previous run left, then starts an empty log. */
  async recover(): Promise<RecoveryResult> {
    const result: RecoveryResult = { removed: 0, skipped: 0, errors: [] };
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // No log (first start) or an unreadable one: nothing we can act on.
    }
    const names = new Set(text.split(/[\n\0]+/));
    for (const name of names) {
      if (!name) continue;
      if (!this.isOurTemp(name)) {
        result.skipped++;
        continue;
      }
      try {
        await rm(name, { force: true });
        result.removed++;
      } catch (err) {
        result.errors.push(`${name}: ${(err as Error).message}`);
      }
    }
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.file, 'w');
    this.bytes = 0;
    return result;
  }

  /** Records a temp file before it is created. */
  add(tmp: string): void {
    this.open.add(tmp);
    if (this.fd < 0) return;
    const b = Buffer.from(tmp + '\n');
    writeSync(this.fd, b, 0, b.length, this.bytes);
    this.bytes += b.length;
  }

  /** The temp file was renamed into place or removed. */
  done(tmp: string): void {
    this.open.delete(tmp);
    if (this.open.size === 0 && this.bytes > TRUNCATE_AT && this.fd >= 0) {
      ftruncateSync(this.fd, 0);
      this.bytes = 0;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private isOurTemp(name: string): boolean {
    if (!path.isAbsolute(name) || !isTempName(path.basename(name))) return false;
    const rel = path.relative(this.root, path.dirname(name));
    return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel));
  }
}
