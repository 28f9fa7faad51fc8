// Runs async work one at a time per key (e.g. per pair: a start, a stop and a resume retry of the
// same pair never interleave), while different keys run side by side.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after everything queued for `key` so far (whether that succeeded or not). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.tails.set(key, next);
    void next
      .finally(() => {
        if (this.tails.get(key) === next) this.tails.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** Resolves once everything queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()].map((p) => p.catch(() => undefined)));
  }
}
