// A recursive file watcher built from one non-recursive fs.watch per directory (one inotify watch
// each on Linux). Node 20's own recursive mode on Linux loses a file once it has been replaced by
// rename (it watches the old inode); a directory watch reports every change to any entry of the
// directory by name, whatever inode the name points to now.
// - Created or moved-in directories get watchers (for the whole subtree) when their parent reports
//   them; removed or moved-away ones lose theirs; a name that now points to another directory inode
//   is re-watched.
// - Node reports events about the watched directory itself (chmod, removal) under the directory's
//   own name, indistinguishable from a child of that name: both paths are reported. Reports are
//   hints ("look at this path"), so an extra one costs a look and nothing else.
// - Changes made inside a new directory before its watcher existed are not reported: the caller
//   treats a reported directory as "look at everything below it" (continuous.ts does).
import { type FSWatcher, lstatSync, readdirSync, watch } from 'node:fs';
import path from 'node:path';

export interface TreeWatcherOptions {
  /** A path (relative to the root, posix separators, '' = the root) that may have changed. */
  onChange: (rel: string) => void;
  /** A watcher failed: events may have been lost (the caller rescans). */
  onError: (err: Error) => void;
  /** Directories not to watch (excluded by the set's rules). */
  skipDir?: (rel: string) => boolean;
}

export class TreeWatcher {
  private readonly dirs = new Map<string, { watcher: FSWatcher; ino: number }>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly opts: TreeWatcherOptions,
  ) {}

  /** Watches the root and every directory below it. */
  start(): void {
    this.watchTree('');
    if (!this.dirs.has('')) throw new Error(`cannot watch ${this.root}`);
  }

  close(): void {
    this.closed = true;
    for (const d of this.dirs.values()) d.watcher.close();
    this.dirs.clear();
  }

  /** Number of directories watched (for tests and diagnostics). */
  get size(): number {
    return this.dirs.size;
  }

  private abs(rel: string): string {
    return rel ? path.join(this.root, ...rel.split('/')) : this.root;
  }

  private watchTree(rel: string): void {
    const stack = [rel];
    while (stack.length) {
      const d = stack.pop()!;
      if (!this.watchDir(d)) continue;
      let names;
      try {
        names = readdirSync(this.abs(d), { withFileTypes: true });
      } catch {
        continue; // gone already: its parent reports that
      }
      for (const e of names) {
        if (!e.isDirectory()) continue;
        const r = d ? `${d}/${e.name}` : e.name;
        if (!this.opts.skipDir?.(r)) stack.push(r);
      }
    }
  }

  /** Watches one directory (again if the name now points to another inode); false if it is not one. */
  private watchDir(rel: string): boolean {
    let ino: number;
    try {
      const st = lstatSync(this.abs(rel));
      if (!st.isDirectory()) return false;
      ino = st.ino;
    } catch {
      return false;
    }
    const cur = this.dirs.get(rel);
    if (cur?.ino === ino) return true;
    if (cur) this.unwatchTree(rel);
    let w: FSWatcher;
    try {
      w = watch(this.abs(rel), (event, name) => this.onEvent(rel, event, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.opts.onError(err as Error);
      return false;
    }
    w.on('error', (err: Error) => {
      if (this.dirs.get(rel)?.watcher !== w) return;
      this.unwatchTree(rel);
      if (!this.closed) this.opts.onError(err);
    });
    this.dirs.set(rel, { watcher: w, ino });
    return true;
  }

  private unwatchTree(rel: string): void {
    for (const [d, w] of this.dirs) {
      if (rel === '' || d === rel || d.startsWith(rel + '/')) {
        w.watcher.close();
        this.dirs.delete(d);
      }
    }
  }

  private onEvent(dir: string, event: string, name: string | Buffer | null): void {
    if (this.closed) return;
    if (typeof name !== 'string' || !name) {
      this.opts.onChange(dir);
      return;
    }
    if (name === path.basename(this.abs(dir))) {
      // Possibly the directory itself: report it, and drop its watchers if it is gone or replaced.
      this.opts.onChange(dir);
      if (dir !== '') {
        let same = false;
        try {
          const st = lstatSync(this.abs(dir));
          same = st.isDirectory() && st.ino === this.dirs.get(dir)?.ino;
        } catch {
          // gone
        }
        if (!same) this.unwatchTree(dir);
      }
    }
    const child = dir ? `${dir}/${name}` : name;
    this.opts.onChange(child);
    if (event !== 'rename') return;
    // Something appeared, vanished or was replaced under this name.
    let isDir = false;
    try {
      isDir = lstatSync(this.abs(child)).isDirectory();
    } catch {
      // gone
    }
    if (isDir && !this.opts.skipDir?.(child)) this.watchTree(child);
    else if (this.dirs.has(child)) this.unwatchTree(child);
  }
}
