// Hard links on the continuous source. A write through one name of a file is reported by the
// watcher for that name only (inotify reports it to the directory the name was reached through),
// so the source remembers which names of the set share an inode and, whenever it handles one of
// them, makes the target's names share one inode as well: the content goes to one name (the one
// it handles when the target already has it, else one the target had), and every other name gets
// a LINK to it. The index is rebuilt from each mirror's walk (which covers what happened while no
// one watched) and kept up as names are handled; it may hold stale names, so each is checked with
// lstat before it is used. Names the set's rules leave out never enter it.
// A link made to a file that had one name is reported for the new name only, and the old name is
// not in the index (it had one name when walked): a file with more names than the index knows
// asks for a walk of the root (needsSearch), once per link count, since names the rules leave out
// are never found.
import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { comparePaths, inodeKey, linkCount, type ManifestEntry } from '../manifest.ts';

export interface LinkGroup {
  /** The name the content goes to. */
  primary: string;
  /** The other names, to be linked to `primary`. */
  others: string[];
}

export class LinkIndex {
  /** `device:inode` → the names seen with it. */
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byPath = new Map<string, string>();
  /** `device:inode` → its link count when a walk last looked for all its names. */
  private readonly searched = new Map<string, number>();

  constructor(private readonly root: string) {}

  /** Starts again from a walk of the root (files with several names carry their inode key). */
  reset(entries: readonly ManifestEntry[]): void {
    this.byKey.clear();
    this.byPath.clear();
    this.searched.clear();
    for (const e of entries) {
      const key = e.type === 'file' ? inodeKey(e) : undefined;
      if (key === undefined) continue;
      this.add(e.path, key);
      this.searched.set(key, linkCount(e));
    }
  }

  /** After group(): the file has more names than the index knows, and no walk has looked for them at this link count. */
  needsSearch(st: Stats): boolean {
    const key = `${st.dev}:${st.ino}`;
    return st.isFile() && st.nlink > 1 && st.nlink > (this.byKey.get(key)?.size ?? 0) && this.searched.get(key) !== st.nlink;
  }

  /** Forgets `rel` (no longer a file with several names) and, with `below`, every name under it (it is gone). */
  forget(rel: string, below = false): void {
    for (const [p, key] of this.byPath) {
      if (p !== rel && !(below && p.startsWith(rel + '/'))) continue;
      this.byPath.delete(p);
      const names = this.byKey.get(key);
      names?.delete(p);
      if (names?.size === 0) this.byKey.delete(key);
    }
  }

  private add(rel: string, key: string): void {
    const old = this.byPath.get(rel);
    if (old === key) return;
    if (old !== undefined) this.forget(rel);
    this.byPath.set(rel, key);
    const names = this.byKey.get(key) ?? new Set<string>();
    names.add(rel);
    this.byKey.set(key, names);
  }

  /**
   * Records what `rel` is now (`st`, from lstat) and returns its group when other names of the set
   * share its inode; undefined for a file with one name (as far as the set goes).
   */
  group(rel: string, st: Stats): LinkGroup | undefined {
    if (!st.isFile() || st.nlink < 2) {
      if (this.byPath.has(rel)) this.forget(rel);
      return undefined;
    }
    const key = `${st.dev}:${st.ino}`;
    const known = this.byPath.get(rel) === key;
    const others: string[] = [];
    for (const n of [...(this.byKey.get(key) ?? [])]) {
      if (n === rel) continue;
      let s: Stats | undefined;
      try {
        s = lstatSync(path.join(this.root, ...n.split('/')));
      } catch {
        s = undefined;
      }
      if (s?.isFile() && s.dev === st.dev && s.ino === st.ino) others.push(n);
      else this.forget(n);
    }
    this.add(rel, key);
    if (!others.length) return undefined;
    others.sort(comparePaths);
    // A name new to the group (a link just made) gets linked to one the target already has.
    const primary = known ? rel : others[0]!;
    return { primary, others: [rel, ...others].filter((n) => n !== primary) };
  }
}
