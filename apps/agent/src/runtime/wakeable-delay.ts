// A delay that a stop can cut short: reconnect loops wait out their backoff with it, and stop()
// calls wake() so shutting down never waits for the timer.
export class WakeableDelay {
  private wakeUp: (() => void) | undefined;

  /** Resolves after `ms`, or at once when wake() is called meanwhile. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Ends the current wait, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
