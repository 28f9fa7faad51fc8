// Small whole files (FILE_WHOLE) are written by one dedicated worker thread with synchronous calls.
// Why: a small file costs about eight syscalls (create, write, chown, chmod, utimes, close, rename),
// and creating an inode can take hundreds of microseconds on ext4. Done on the event loop, that
// stalls TLS decryption and framing for every other file; done on libuv's thread pool, every call
// is a hand-off (a futex wake each way, tens of microseconds on a VM). One thread running the whole
// sequence per file keeps the event loop free and the hand-offs to one message each way, and
// messages queued while the thread is busy need no extra wake-up.
// - Same result as the inline path in receive.ts: temp file (O_EXCL, 0600) beside the destination,
//   all-zero 4 KiB pages left as holes, owner before mode (chown clears setuid/setgid), mtime
//   last, then rename over the destination.
// - A rename refused because a directory sits at the destination comes back as an error with its
//   code; the caller removes the directory and renames (rare, and it needs async recursion).
// - The worker's code is an inline CommonJS string (see hashpool.ts for why). The thread is created
//   on first use and unref'd while idle; if it dies its files fail (the source re-sends them) and a
//   new one is created on next use. If threads cannot be created, callers write inline.
import { Worker } from 'node:worker_threads';

/** Holes are kept at this granularity (receive.ts HOLE_GRAIN; not imported: the worker is a string). */
const HOLE_GRAIN = 4096;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = fs.constants;
const GRAIN = ${HOLE_GRAIN};
const ZERO = Buffer.alloc(GRAIN);
parentPort.on('message', (t) => {
  let fd = -1;
  try {
    const body = Buffer.from(t.body, 0, t.len);
    fd = fs.openSync(t.tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
    let end = 0;
    // Runs of data between all-zero pages, one write each; the pages are left as holes.
    const write = (a, b) => {
      for (let done = a; done < b; ) done += fs.writeSync(fd, body, done, b - done, done);
      end = b;
    };
    let run = -1;
    for (let p = 0; p < body.length; p += GRAIN) {
      const q = Math.min(body.length, p + GRAIN);
      const zero = body.subarray(p, q).equals(q - p === GRAIN ? ZERO : ZERO.subarray(0, q - p));
      if (zero && run >= 0) {
        write(run, p);
        run = -1;
      } else if (!zero && run < 0) run = p;
    }
    if (run >= 0) write(run, body.length);
    if (end < t.size) fs.ftruncateSync(fd, t.size);
    fs.fchownSync(fd, t.uid, t.gid);
    fs.fchmodSync(fd, t.mode);
    fs.futimesSync(fd, t.mtimeMs / 1000, t.mtimeMs / 1000);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(t.tmp, t.dest);
    parentPort.postMessage({ id: t.id, body: t.body }, [t.body]);
  } catch (err) {
    if (fd >= 0) try { fs.closeSync(fd); } catch {}
    parentPort.postMessage({ id: t.id, body: t.body, error: String(err && err.message), code: err && err.code, renaming: fd < 0 }, [t.body]);
  }
});
`;

export interface WholeFileTask {
  tmp: string;
  dest: string;
  body: Buffer;
  size: number;
  uid: number;
  gid: number;
  mode: number;
  mtimeMs: number;
}

interface Reply {
  id: number;
  /** The task's buffer, transferred back for reuse. */
  body?: ArrayBuffer;
  error?: string;
  code?: string;
  renaming?: boolean;
}

/** An error from the writer thread, with the errno code and whether the content was complete (only the rename failed). */
export class WriterError extends Error {
  override name = 'WriterError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly atRename: boolean,
  ) {
    super(message);
  }
}

/**
 * Transfer buffers come back with each reply and are reused, by power-of-two size class: a fresh
 * ArrayBuffer per file would make V8 mark its whole heap every few dozen MiB of external memory.
 */
const spare = new Map<number, ArrayBuffer[]>();
const SPARE_PER_CLASS = 32;
const sizeClass = (n: number) => Math.max(4096, 2 ** Math.ceil(Math.log2(Math.max(1, n))));
function takeBuffer(n: number): ArrayBuffer {
  return spare.get(sizeClass(n))?.pop() ?? new ArrayBuffer(sizeClass(n));
}
function giveBuffer(ab: ArrayBuffer): void {
  let list = spare.get(ab.byteLength);
  if (!list) spare.set(ab.byteLength, (list = []));
  if (list.length < SPARE_PER_CLASS) list.push(ab);
}

let worker: Worker | undefined;
/** TANDEM_WRITER_THREAD=0 writes inline (for comparison and as a way out). */
let unavailable = process.env.TANDEM_WRITER_THREAD === '0';
let nextId = 0;
const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

function thread(): Worker | undefined {
  if (worker || unavailable) return worker;
  try {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (r: Reply) => {
      if (r.body) giveBuffer(r.body);
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (r.error === undefined) p.resolve();
      else p.reject(Object.assign(new WriterError(r.error, r.code, !!r.renaming), { code: r.code }));
      if (pending.size === 0) w.unref();
    });
    const failAll = (err: Error) => {
      if (worker === w) worker = undefined;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    w.on('error', failAll);
    w.on('exit', () => failAll(new Error('the file writer thread exited')));
    w.unref();
    worker = w;
  } catch {
    unavailable = true;
  }
  return worker;
}

/** Whether the writer thread can be used (false: write inline). */
export function writerAvailable(): boolean {
  return !!thread();
}

/** Writes one small file through the writer thread; rejects with WriterError (its temp may remain: the caller discards it). */
export function writeWholeFile(t: WholeFileTask): Promise<void> {
  const w = thread();
  if (!w) return Promise.reject(new Error('the file writer thread is not available'));
  const id = nextId++;
  // A copy into a buffer of our own (recycled): the body is a view of a larger socket buffer, and
  // cloning a view would copy all of that buffer; transferring our copy costs nothing more.
  const ab = takeBuffer(t.body.length);
  new Uint8Array(ab).set(t.body);
  return new Promise<void>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    if (pending.size === 1) w.ref();
    w.postMessage({ id, tmp: t.tmp, dest: t.dest, body: ab, len: t.body.length, size: t.size, uid: t.uid, gid: t.gid, mode: t.mode, mtimeMs: t.mtimeMs }, [ab]);
  });
}
